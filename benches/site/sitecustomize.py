"""Benchmark harness only (benches/aws_live.py puts this directory on PYTHONPATH for the Python
scanners it compares against). Prowler and ScoutSuite pass explicit endpoints to some boto3
clients (STS above all), which would leave the local emulator; this points every botocore client
at BENCH_AWS_ENDPOINT, whatever endpoint the tool asked for. It changes nothing else."""
import os

_endpoint = os.environ.get("BENCH_AWS_ENDPOINT")
if _endpoint:
    import botocore.session

    _create_client = botocore.session.Session.create_client

    def create_client(self, *args, **kwargs):
        # create_client(service_name, region_name, api_version, use_ssl, verify, endpoint_url, ...)
        if len(args) > 5:
            args = list(args)
            args[5] = _endpoint
        else:
            kwargs["endpoint_url"] = _endpoint
        return _create_client(self, *args, **kwargs)

    botocore.session.Session.create_client = create_client
