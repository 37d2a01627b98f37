"""A local stand-in for the Google Cloud APIs Portcullis reads: Resource Manager v3, Cloud Asset v1
(searchAllIamPolicies), IAM v1 (service accounts, keys, their policies, custom and predefined roles), Org Policy v2 (effective
policies) and Logging v2 (sinks), on one HTTPS port with a certificate made for the run.

It serves an organization described by a scenario file (fixtures/gcp/*.json) in the documented
shapes, pages lists with nextPageToken, checks that each request carries a JWT signed by the
service-account key it wrote (the client's self-signed JWT), and injects faults: a disabled Cloud
Asset API (SERVICE_DISABLED), denied permissions, latency.

Usage: gcp_fake.py SCENARIO --dir DIR [--page N] [--asset-disabled] [--deny PATH_PREFIX]... [--deny-re REGEX]... [--flaky N]
       [--latency-ms N] [--projects N]
Prints one JSON line: the port, the CA file and the service-account key file.
"""

import argparse
import base64
import json
import re
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from azure_fake import announce_and_wait, make_certs, serve_https  # noqa: E402  (the same CA, certificate and server)


def unb64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class State:
    def __init__(self, args):
        with open(args.scenario) as f:
            self.s = json.load(f)
        self.args = args
        self.lock = threading.Lock()
        self.log = open(os.path.join(args.dir, "requests.jsonl"), "a")
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.throttled = set()
        self.seen = 0          # --flaky: requests counted
        self.flaked = set()    # --flaky: requests that already failed once
        if args.projects:
            self.generate(args.projects)

    def generate(self, n):
        """n more projects under the first folder, each with a small policy."""
        org = self.s["organization"]["name"]
        parent = self.s["folders"][0]["name"] if self.s["folders"] else org
        for i in range(n):
            num = "9%011d" % i
            pid = "gen-project-%05d" % i
            self.s["projects"].append({"name": "projects/" + num, "projectId": pid, "parent": parent, "state": "ACTIVE"})
            self.s["policies"]["projects/" + num] = {"bindings": [{"role": "roles/viewer", "members": ["group:devs@example.com"]}]}

    def predefined_roles(self):
        if "predefined_roles" in self.s:
            return self.s["predefined_roles"]
        with open(os.path.join(os.path.dirname(os.path.abspath(self.args.scenario)), "predefined_roles.json")) as f:
            return json.load(f)

    def record(self, method, path):
        with self.lock:
            self.log.write(json.dumps({"method": method, "path": path}) + "\n")
            self.log.flush()

    def project(self, ref):
        """A project by `projects/<id>` or `projects/<number>`."""
        for p in self.s["projects"]:
            if ref in (p["name"], "projects/" + p["projectId"]):
                return p
        return None


def make_handler(state):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def send_json(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def error(self, status, code, message, details=None):
            body = {"error": {"code": status, "message": message, "status": code}}
            if details:
                body["error"]["details"] = details
            return self.send_json(status, body)

        def authorized(self):
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer "):
                return "no bearer token"
            try:
                h, c, s = auth[7:].split(".")
                header, claims = json.loads(unb64url(h)), json.loads(unb64url(c))
                state.key.public_key().verify(unb64url(s), ("%s.%s" % (h, c)).encode(), padding.PKCS1v15(), hashes.SHA256())
            except Exception as e:  # noqa: BLE001
                return "token not signed by the service-account key: %s" % e
            if claims.get("iss") != state.s["client_email"] or header.get("kid") != "fake-key-id":
                return "wrong issuer or key id"
            if claims.get("exp", 0) < time.time():
                return "expired token"
            return None

        def do_POST(self):
            self.route("POST")

        def do_GET(self):
            self.route("GET")

        def route(self, method):
            state.record(method, self.path)
            length = int(self.headers.get("Content-Length", "0") or 0)
            if length:
                self.rfile.read(length)
            if state.args.latency_ms:
                time.sleep(state.args.latency_ms / 1000.0)
            problem = self.authorized()
            if problem:
                return self.error(401, "UNAUTHENTICATED", problem)
            url = urllib.parse.urlsplit(self.path)
            path = urllib.parse.unquote(url.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            if state.args.flaky:
                with state.lock:
                    state.seen += 1
                    fault = state.seen % state.args.flaky == 0 and self.path not in state.flaked
                    if fault:
                        state.flaked.add(self.path)
                        kind = len(state.flaked) % 2
                if fault and kind == 0:
                    return self.error(503, "UNAVAILABLE", "The service is currently unavailable.")
                if fault:
                    self.close_connection = True  # no answer: the connection just closes
                    return None
            for p in state.args.throttle_once:
                key = (p, query.get("pageToken", ""))
                if path.startswith(p) and key not in state.throttled:
                    state.throttled.add(key)
                    return self.error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Read requests' of service.")
            # Listing the predefined roles names no resource, so no permission on one is checked.
            predefined = path == "/v1/roles" and not query.get("parent")
            for p in [] if predefined else state.args.deny + [r for r in state.args.deny_re if re.search(r, path)]:
                if path.startswith(p) or p in state.args.deny_re:
                    perm = state.args.deny_permission or "resourcemanager.projects.getIamPolicy"
                    return self.error(403, "PERMISSION_DENIED", "Permission '%s' denied on resource (or it may not exist)." % perm,
                                      [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "IAM_PERMISSION_DENIED", "domain": "iam.googleapis.com", "metadata": {"permission": perm}}])
            s = state.s
            write_verbs = (":setIamPolicy", ":delete", ":create", ":patch", ":undelete", ":move")
            if any(path.endswith(v) for v in write_verbs):
                return self.error(405, "FAILED_PRECONDITION", "the scan must only read")
            if path.endswith(":searchAllIamPolicies"):
                if state.args.asset_disabled:
                    return self.error(403, "PERMISSION_DENIED", "Cloud Asset API has not been used in project 456789012345 before or it is disabled.",
                                      [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_DISABLED", "domain": "googleapis.com",
                                        "metadata": {"consumer": "projects/456789012345", "service": "cloudasset.googleapis.com"}}])
                return self.page(self.search_results(), query, "results")
            if path.endswith(":getIamPolicy"):
                res = path[len("/v3/"):-len(":getIamPolicy")] if path.startswith("/v3/") else None
                if res is not None:
                    if res.startswith("projects/"):
                        p = state.project(res)
                        if p is None:
                            return self.error(403, "PERMISSION_DENIED", "The caller does not have permission")
                        res = p["name"]
                    return self.send_json(200, s["policies"].get(res, {"version": 1, "etag": "BwXX"}))
                # IAM: a service account's own policy.
                sa = self.service_account(path[len("/v1/"):-len(":getIamPolicy")])
                if sa is None:
                    return self.error(404, "NOT_FOUND", "service account not found")
                return self.send_json(200, sa.get("policy", {"etag": "ACAB"}))
            if path.startswith("/v3/organizations/"):
                if path[len("/v3/"):] != s["organization"]["name"]:
                    return self.error(403, "PERMISSION_DENIED", "The caller does not have permission")
                return self.send_json(200, dict(s["organization"], state="ACTIVE"))
            if path == "/v3/folders":
                return self.page([dict(f, state="ACTIVE") for f in s["folders"] if f["parent"] == query.get("parent")], query, "folders")
            if path.startswith("/v3/folders/"):
                f = next((f for f in s["folders"] if f["name"] == path[len("/v3/"):]), None)
                return self.send_json(200, dict(f, state="ACTIVE")) if f else self.error(403, "PERMISSION_DENIED", "The caller does not have permission")
            if path == "/v3/projects":
                return self.page([dict(p, state="ACTIVE") for p in s["projects"] if p["parent"] == query.get("parent")], query, "projects")
            if path.startswith("/v3/projects/"):
                p = state.project(path[len("/v3/"):])
                return self.send_json(200, dict(p, state="ACTIVE")) if p else self.error(403, "PERMISSION_DENIED", "The caller does not have permission")
            if path.startswith("/v1/projects/") and path.endswith("/serviceAccounts"):
                p = state.project(path[len("/v1/"):-len("/serviceAccounts")])
                accounts = [self.account_json(p, a) for a in s.get("service_accounts", {}).get(p["projectId"], [])] if p else []
                return self.page(accounts, query, "accounts")
            if path == "/v1/roles" or (path.startswith("/v1/") and path.endswith("/roles")):
                # IAM roles.list: `GET /v1/roles?parent=projects/<id>` (how Google's Rust client
                # sends it) or `GET /v1/projects/<id>/roles`. BASIC (the default) leaves out the
                # permissions, and deleted roles come only with showDeleted=true. No parent: the
                # predefined roles (the scenario's `predefined_roles`, or predefined_roles.json beside
                # it: real permission lists).
                parent = query.get("parent", "") if path == "/v1/roles" else path[len("/v1/"):-len("/roles")]
                if not parent:
                    roles = state.predefined_roles()
                elif parent.startswith("projects/"):
                    p = state.project(parent)
                    if p is None:
                        return self.error(403, "PERMISSION_DENIED", "The caller does not have permission")
                    parent = "projects/" + p["projectId"]
                if parent:
                    roles = s.get("custom_roles", {}).get(parent, [])
                if query.get("showDeleted") != "true":
                    roles = [r for r in roles if not r.get("deleted")]
                # Google's clients ask for enums as numbers (`$alt=json;enum-encoding=int`).
                if query.get("view") not in ("FULL", "1"):
                    roles = [{k: v for k, v in r.items() if k != "includedPermissions"} for r in roles]
                if "enum-encoding=int" in query.get("$alt", ""):
                    stages = {"ALPHA": 0, "BETA": 1, "GA": 2, "DEPRECATED": 4, "DISABLED": 5, "EAP": 6}
                    roles = [dict(r, stage=stages[r["stage"]]) if r.get("stage") in stages else r for r in roles]
                return self.page(roles, query, "roles")
            if path.startswith("/v1/projects/") and path.endswith("/keys"):
                sa = self.service_account(path[len("/v1/"):-len("/keys")])
                if sa is None:
                    return self.error(404, "NOT_FOUND", "service account not found")
                return self.send_json(200, {"keys": sa.get("keys", [])})
            if path.startswith("/v2/") and path.endswith(":getEffectivePolicy"):
                name = path[len("/v2/"):-len(":getEffectivePolicy")]
                container, _, constraint = name.partition("/policies/")
                p = state.project(container)
                pol = s.get("org_policies", {}).get(p["name"] if p else container, {}).get(constraint)
                if pol is None:
                    return self.error(404, "NOT_FOUND", "Requested entity was not found.")
                return self.send_json(200, {"name": name, "spec": pol})
            if path.startswith("/v2/") and path.endswith("/sinks"):
                parent = path[len("/v2/"):-len("/sinks")]
                p = state.project(parent)
                return self.page(s.get("sinks", {}).get(p["name"] if p else parent, []), query, "sinks")
            return self.error(404, "NOT_FOUND", "no route for %s %s" % (method, path))

        def page(self, items, query, key):
            size = min(int(query.get("pageSize") or state.args.page), state.args.page)
            start = int(query.get("pageToken") or 0)
            body = {}
            if items[start:start + size]:
                body[key] = items[start:start + size]
            if start + size < len(items):
                body["nextPageToken"] = str(start + size)
            return self.send_json(200, body)

        def search_results(self):
            s = state.s
            org = s["organization"]["name"]
            out = []
            for name, pol in s["policies"].items():
                if not pol.get("bindings"):
                    continue  # only resources with a policy of their own are returned
                if name.startswith("projects/"):
                    p = state.project(name)
                    resource, asset_type = "projects/" + p["projectId"], "cloudresourcemanager.googleapis.com/Project"
                elif name.startswith("folders/"):
                    resource, asset_type = name, "cloudresourcemanager.googleapis.com/Folder"
                else:
                    resource, asset_type = name, "cloudresourcemanager.googleapis.com/Organization"
                out.append({"resource": "//cloudresourcemanager.googleapis.com/" + resource, "assetType": asset_type,
                            "organization": org, "policy": {"bindings": pol["bindings"], **({"auditConfigs": pol["auditConfigs"]} if "auditConfigs" in pol else {})}})
            return out

        def service_account(self, name):
            # projects/<p>/serviceAccounts/<email or unique id>
            parts = name.split("/")
            if len(parts) != 4:
                return None
            p = state.project("projects/" + parts[1])
            if p is None:
                return None
            return next((a for a in state.s.get("service_accounts", {}).get(p["projectId"], []) if parts[3] in (a["email"], a["uniqueId"])), None)

        def account_json(self, p, a):
            return {"name": "projects/%s/serviceAccounts/%s" % (p["projectId"], a["email"]), "projectId": p["projectId"], "uniqueId": a["uniqueId"],
                    "email": a["email"], "displayName": a.get("displayName", ""), "disabled": a.get("disabled", False)}

    return H


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--page", type=int, default=2)
    ap.add_argument("--asset-disabled", action="store_true")
    ap.add_argument("--deny", action="append", default=[])
    ap.add_argument("--flaky", type=int, default=0, help="every Nth request fails once: 503 or a dropped connection in turn")
    ap.add_argument("--deny-re", action="append", default=[], help="refuse paths this regular expression finds")
    ap.add_argument("--deny-permission")
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--projects", type=int, default=0)
    ap.add_argument("--throttle-once", action="append", default=[])
    args = ap.parse_args()
    state = State(args)
    ca, server_pem = make_certs(args.dir)
    key_file = os.path.join(args.dir, "sa-key.json")
    with open(key_file, "w") as f:
        json.dump({
            "type": "service_account", "project_id": "scanner-project", "private_key_id": "fake-key-id",
            "private_key": state.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode(),
            "client_email": state.s["client_email"], "client_id": "100000000000000000001",
            "auth_uri": "https://127.0.0.1:1/o/oauth2/auth", "token_uri": "https://127.0.0.1:1/token",
        }, f)
    port = serve_https(make_handler(state), server_pem)
    announce_and_wait({"port": port, "ca": ca, "key_file": key_file})


if __name__ == "__main__":
    main()
