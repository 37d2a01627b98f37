#!/usr/bin/env python3
"""Run the trust case table (fixtures/policy/trust_cases.json) through any portcullis binary, without
and with an organization, and list the verdicts that differ from the table: to see what a release
changed, or what an older build got wrong.

Usage: python3 benches/verdict_diff.py PATH/TO/portcullis
"""
import json, subprocess, sys, tempfile
from pathlib import Path
binary = sys.argv[1]
cases = json.load(open(Path(__file__).resolve().parent.parent / "fixtures/policy/trust_cases.json"))
inv_path = Path(tempfile.mkdtemp()) / "inv.json"
CH=["aws_iam_role_trust_not_public","aws_iam_role_cross_account_trust_restricted","aws_iam_role_oidc_trust_subject_restricted"]
org={"collected":{"id":"o-a1b2c3d4e5","management_account_id":"111122223333","nodes":[{"id":"r-ab12","kind":"aws_organization_root"},{"id":"ou-ab12-11111111","kind":"aws_organizational_unit","parent":"r-ab12"},{"id":"111122223333","kind":"aws_account","parent":"r-ab12","state":"ACTIVE"},{"id":"222233334444","kind":"aws_account","parent":"ou-ab12-11111111","state":"ACTIVE"}],"scps":[]}}
bad=[]
for with_org in (False,True):
    roles=[{"name":c["name"],"id":"AROA"+c["name"],"arn":"arn:aws:iam::111122223333:role/"+c["name"],"trust_policy":c["policy"]} for c in cases]
    aws={"accounts":[{"account_id":"111122223333","authorization_details":{"collected":{"roles":roles}}}]}
    if with_org: aws["organization"]=org
    json.dump({"schema":"portcullis.inventory/v1","aws":aws},open(inv_path,'w'))
    out=subprocess.run([binary,"scan","--inventory",str(inv_path),"--checks",",".join(CH),"--json","-","-q"],capture_output=True,text=True)
    fs=json.loads(out.stdout)["findings"]
    for c in cases:
        exp=c.get("expect_with_org",c["expect"]) if with_org else c["expect"]
        for ch in CH:
            got=[f["status"] for f in fs if f["check_id"]==ch and f["resource"]["name"]==c["name"]]
            got=got[0] if len(got)==1 else (None if not got else "several")
            if got!=exp[ch]: bad.append(f'{"org" if with_org else "no-org"} {c["name"]} {ch}: want {exp[ch]} got {got}')
print(len(bad),"wrong"); print("\n".join(bad))
