//! Live AWS collection against real parts: moto's server holding an organization (three OUs,
//! member accounts, SCPs at root/OU/account, trails in two regions, instances with and without
//! IMDSv2, users, keys, MFA, roles), plus a local front server for what moto lacks (IAM Access
//! Analyzer, GetInstanceMetadataDefaults) and for a refused AssumeRole. The recorder and the front
//! server see every call, which proves the scan only reads.

mod support;

use std::sync::Arc;

use serde_json::{json, Value};
use support::{is_read_only, portcullis, Front, Moto, Reply, Request};

#[test]
fn the_read_only_rule_rejects_writes() {
    for w in ["CreateUser", "DeleteTrail", "StopLogging", "PutEventSelectors", "UpdateAccessKey", "AttachPolicy", "POST /analyzer", "CreateAccessKey"] {
        assert!(!is_read_only(w), "{w} must count as a write");
    }
    for r in ["GetAccountAuthorizationDetails", "ListRoots", "DescribeInstances", "GenerateCredentialReport", "GET /analyzer"] {
        assert!(is_read_only(r), "{r} is a read");
    }
}

fn json_reply(status: u16, body: Value, error_type: Option<&str>) -> Reply {
    let mut h = vec![("Content-Type".to_string(), "application/json".to_string()), ("x-amzn-RequestId".to_string(), "00000000-0000-4000-8000-000000000001".to_string())];
    if let Some(t) = error_type {
        h.push(("x-amzn-ErrorType".to_string(), t.to_string()));
    }
    Reply::Serve(status, h, body.to_string().into_bytes())
}

fn xml_reply(status: u16, body: String) -> Reply {
    Reply::Serve(status, vec![("Content-Type".into(), "text/xml".into())], body.into_bytes())
}

const MGMT: &str = "123456789012";

/// What moto lacks, in the documented shapes (../shared/reference/aws), with paging; plus faults:
/// a refused AssumeRole and one throttled ListAnalyzers that the SDK's retry must absorb.
fn front_handler(denied_role_account: String, assume_role_bodies: Arc<std::sync::Mutex<Vec<String>>>) -> Arc<support::Handler> {
    let throttled = std::sync::atomic::AtomicBool::new(false);
    Arc::new(move |req: &Request| {
        let (service, region, key) = req.scope();
        let management = key == "testing"; // member accounts are reached with moto's session keys
        if service == "sts" && req.body_str().contains("Action=AssumeRole") {
            assume_role_bodies.lock().unwrap().push(req.body_str());
        }
        if service == "access-analyzer" && region == "eu-west-1" && management && !throttled.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return json_reply(429, json!({"message": "Rate exceeded"}), Some("ThrottlingException"));
        }
        match service.as_str() {
            "access-analyzer" => access_analyzer(req, &region, management),
            // Each account lists its own regions: the management account two, members are refused.
            "ec2" if req.body_str().contains("Action=DescribeRegions") => {
                if !management {
                    return xml_reply(403, "<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>r-4</RequestID></Response>".into());
                }
                let item = |r: &str| format!("<item><regionName>{r}</regionName><regionEndpoint>ec2.{r}.amazonaws.com</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item>");
                xml_reply(200, format!("<DescribeRegionsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r-5</requestId><regionInfo>{}{}</regionInfo></DescribeRegionsResponse>", item("us-east-1"), item("eu-west-1")))
            }
            "ec2" if req.body_str().contains("Action=GetInstanceMetadataDefaults") => {
                let inner = match region.as_str() {
                    "us-east-1" => "<accountLevel><httpTokens>required</httpTokens><httpPutResponseHopLimit>2</httpPutResponseHopLimit></accountLevel>",
                    "eu-west-1" => "<accountLevel/>",
                    _ => {
                        return xml_reply(403, "<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>r-1</RequestID></Response>".into())
                    }
                };
                xml_reply(200, format!("<GetInstanceMetadataDefaultsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r-2</requestId>{inner}</GetInstanceMetadataDefaultsResponse>"))
            }
            "sts" if req.body_str().contains("Action=AssumeRole") && req.body_str().contains(&format!("arn%3Aaws%3Aiam%3A%3A{denied_role_account}%3A")) => {
                xml_reply(403, format!("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::{MGMT}:user/scanner is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::{denied_role_account}:role/OrganizationAccountAccessRole</Message></Error><RequestId>r-3</RequestId></ErrorResponse>"))
            }
            _ => Reply::Forward,
        }
    })
}

fn access_analyzer(req: &Request, region: &str, management: bool) -> Reply {
    let arn = |name: &str| format!("arn:aws:access-analyzer:{region}:{MGMT}:analyzer/{name}");
    if region == "ap-southeast-2" {
        // A 403 whose body the SDK cannot parse as this protocol's error: denied by status alone.
        return Reply::Serve(403, vec![("Content-Type".into(), "text/html".into())], b"<html><body>Forbidden</body></html>".to_vec());
    }
    match (req.method.as_str(), req.path()) {
        ("GET", "/analyzer") => {
            if !management || region != "us-east-1" {
                return json_reply(200, json!({"analyzers": []}), None);
            }
            // Two pages: an unused-access analyzer first (it must not count), then the real one.
            if req.query().contains("nextToken=page2") {
                json_reply(200, json!({"analyzers": [{"arn": arn("external"), "name": "external", "type": "ACCOUNT", "createdAt": "2026-01-10T12:00:00Z", "status": "ACTIVE"}]}), None)
            } else {
                json_reply(200, json!({"analyzers": [{"arn": arn("unused"), "name": "unused", "type": "ACCOUNT_UNUSED_ACCESS", "createdAt": "2026-01-10T12:00:00Z", "status": "ACTIVE",
                    "configuration": {"unusedAccess": {"unusedAccessAge": 90}}}], "nextToken": "page2"}), None)
            }
        }
        ("POST", "/finding") => {
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            if body["filter"]["status"]["eq"] != json!(["ACTIVE"]) || body["analyzerArn"] != json!(arn("external")) {
                return json_reply(400, json!({"message": format!("unexpected request {body}")}), Some("ValidationException"));
            }
            let finding = |id: &str, resource: &str, rtype: &str, principal: Value, action: &str, public: bool| {
                json!({"id": id, "principal": principal, "action": [action], "resource": resource, "isPublic": public, "resourceType": rtype,
                       "condition": {}, "createdAt": "2026-04-20T10:00:00Z", "analyzedAt": "2026-05-01T08:00:00Z", "updatedAt": "2026-05-01T08:00:00Z",
                       "status": "ACTIVE", "resourceOwnerAccount": MGMT})
            };
            if body["nextToken"] == json!("f2") {
                json_reply(200, json!({"findings": [finding("aa-2", &format!("arn:aws:kms:us-east-1:{MGMT}:key/k-1"), "AWS::KMS::Key", json!({"AWS": "999988887777"}), "kms:Decrypt", false)]}), None)
            } else {
                json_reply(200, json!({"findings": [finding("aa-1", "arn:aws:s3:::public-exports", "AWS::S3::Bucket", json!({"AWS": "*"}), "s3:GetObject", true)], "nextToken": "f2"}), None)
            }
        }
        _ => json_reply(404, json!({"message": "no such route"}), Some("ResourceNotFoundException")),
    }
}

fn findings_of<'v>(findings: &'v [Value], check: &str, account: &str) -> Vec<&'v Value> {
    findings.iter().filter(|f| f["check_id"] == check && f["account"] == account).collect()
}

fn status_of(findings: &[Value], check: &str, account: &str, resource_name: &str) -> String {
    let hits: Vec<_> = findings_of(findings, check, account).into_iter().filter(|f| f["resource"]["name"] == resource_name).collect();
    assert_eq!(hits.len(), 1, "{check} {account} {resource_name}: {hits:?}");
    hits[0]["status"].as_str().unwrap().to_string()
}

#[test]
fn organization_scan_reads_everything_it_needs_and_nothing_else() {
    let Some(moto) = Moto::start() else { return };
    let ids = moto.seed(&["org"]);
    let (audit, prod, closed) = (ids["audit"].as_str().unwrap(), ids["prod"].as_str().unwrap(), ids["closed"].as_str().unwrap());
    let assume_role_bodies = Arc::new(std::sync::Mutex::new(Vec::new()));
    let front = Front::start(moto.port, front_handler(audit.to_string(), assume_role_bodies.clone()));
    moto.reset_recording();

    let dir = tempfile::tempdir().unwrap();
    let inv_path = dir.path().join("inventory.json");
    let out = portcullis(&moto.endpoint(), Some(&front), &[
        "collect", "--aws", "--aws-org", "--aws-regions", "us-east-1,eu-west-1,ap-southeast-2", "--concurrency", "2", "--out", inv_path.to_str().unwrap(), "-q",
    ]);
    assert!(out.status.success(), "collect failed: {}", String::from_utf8_lossy(&out.stderr));
    let inv: Value = serde_json::from_str(&std::fs::read_to_string(&inv_path).unwrap()).unwrap();

    // --- read-only, and bulk: calls do not depend on users ----------------------------------
    let mut calls = moto.recorded();
    calls.extend(front.recorded());
    let writes: Vec<_> = calls.iter().filter(|(_, a)| !is_read_only(a)).collect();
    assert!(writes.is_empty(), "the scan made non-read calls: {writes:?}");
    let iam_calls: Vec<&str> = calls.iter().filter(|(s, _)| s == "iam").map(|(_, a)| a.as_str()).collect();
    assert!(iam_calls.iter().all(|a| *a != "ListUsers" && *a != "ListAccessKeys" && *a != "GetUser"), "per-user IAM calls: {iam_calls:?}");
    assert_eq!(iam_calls.iter().filter(|a| **a == "GetAccountAuthorizationDetails").count(), 2, "one page per reachable account: {iam_calls:?}");
    for must in ["ListRoots", "ListPolicies", "DescribePolicy", "ListTargetsForPolicy", "DescribeTrails", "GetTrailStatus", "GetEventSelectors", "DescribeInstances", "GetInstanceMetadataDefaults", "GET /analyzer", "POST /finding", "ListVirtualMFADevices", "GetCredentialReport"] {
        assert!(calls.iter().any(|(_, a)| a == must), "{must} never called: {calls:?}");
    }

    // --- member sessions are capped at read-only by session policies -------------------------
    let bodies = assume_role_bodies.lock().unwrap().clone();
    assert!(!bodies.is_empty(), "AssumeRole into members");
    for b in &bodies {
        for p in ["SecurityAudit", "ReadOnlyAccess"] {
            assert!(b.contains(&format!("arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2F{p}")), "AssumeRole without the {p} session policy: {b}");
        }
    }

    // --- the organization ------------------------------------------------------------------
    let org = &inv["aws"]["organization"]["collected"];
    assert_eq!(org["management_account_id"], MGMT);
    let node = |id: &str| org["nodes"].as_array().unwrap().iter().find(|n| n["id"] == id).cloned().unwrap_or(Value::Null);
    assert_eq!(node(prod)["parent"], ids["ous"]["prod"]);
    assert_eq!(node(ids["ous"]["prod"].as_str().unwrap())["parent"], ids["ous"]["workloads"]);
    assert_eq!(node(closed)["state"], "SUSPENDED");
    let scp = |id: &str| org["scps"].as_array().unwrap().iter().find(|p| p["id"] == id).cloned().unwrap();
    assert_eq!(scp(ids["scps"]["deny_root"].as_str().unwrap())["targets"], json!([prod]));
    assert_eq!(scp(ids["scps"]["protect_trail"].as_str().unwrap())["targets"], ids["ous"]["workloads"].as_str().map(|s| json!([s])).unwrap());
    assert_eq!(scp(ids["scps"]["deny_leave"].as_str().unwrap())["document"]["Statement"][0]["Action"], "organizations:LeaveOrganization");

    // --- accounts: the suspended one skipped, the refused one recorded -----------------------
    let accounts = inv["aws"]["accounts"].as_array().unwrap();
    let ids_seen: Vec<&str> = accounts.iter().map(|a| a["account_id"].as_str().unwrap()).collect();
    assert!(ids_seen.contains(&MGMT) && ids_seen.contains(&prod) && ids_seen.contains(&audit), "{ids_seen:?}");
    assert!(!ids_seen.contains(&closed), "a suspended account is not collected");
    let acct = |id: &str| accounts.iter().find(|a| a["account_id"] == id).unwrap();
    assert_eq!(acct(audit)["authorization_details"]["denied"]["action"], "sts:AssumeRole");
    assert_eq!(acct(audit)["name"], "audit");
    let prod_users = acct(prod)["authorization_details"]["collected"]["users"].as_array().unwrap();
    assert_eq!(prod_users.iter().map(|u| u["name"].as_str().unwrap()).collect::<Vec<_>>(), ["deployer"], "member data read as the member");

    let m = acct(MGMT);
    let details = &m["authorization_details"]["collected"];
    let role = |n: &str| details["roles"].as_array().unwrap().iter().find(|r| r["name"] == n).cloned().unwrap();
    assert_eq!(role("vendor-with-external-id")["trust_policy"]["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"], "vendor-7f3a", "trust policy decoded");
    assert_eq!(role("org-audit")["permissions_boundary"], "arn:aws:iam::aws:policy/ReadOnlyAccess");
    // Managed policies: those in use and the account's own are kept with their documents; the
    // AWS managed policies nothing uses are counted, not kept (an org scan would hold them once per account).
    let policy = |n: &str| details["policies"].as_array().unwrap().iter().find(|p| p["name"] == n).cloned();
    assert_eq!(policy("AdministratorAccess").expect("attached to a group")["document"]["Statement"][0]["Action"], "*");
    assert!(policy("ReadOnlyAccess").expect("a role's boundary")["document"]["Statement"].is_array());
    assert!(policy("unused-local").expect("customer managed, kept")["document"].is_object());
    assert!(policy("SecurityAudit").is_none() && policy("AmazonS3FullAccess").is_none(), "unused AWS managed policies left out");
    assert!(details["unused_aws_managed_omitted"].as_u64().unwrap() > 100, "{}", details["unused_aws_managed_omitted"]);
    let report = &m["credential_report"]["collected"];
    assert!(report["generated_at"].is_string(), "GeneratedTime recorded");
    let alice = report["rows"].as_array().unwrap().iter().find(|r| r["user"] == "alice").unwrap();
    assert_eq!(alice["mfa_active"], true);
    assert_eq!(alice["access_keys"].as_array().unwrap().iter().filter(|k| k["active"] == true).count(), 2);
    assert_eq!(m["password_policy"]["collected"]["minimum_password_length"], 8);
    assert!(m["account_summary"]["collected"]["AccountMFAEnabled"].is_i64());
    assert_eq!(m["identity_providers"]["collected"]["oidc"][0]["url"].as_str().map(|u| u.trim_start_matches("https://")), Some("token.actions.githubusercontent.com"));
    assert!(m["mfa_devices"]["collected"].as_array().unwrap().iter().any(|d| d["user_arn"] == format!("arn:aws:iam::{MGMT}:user/alice")));

    let region = |a: &Value, r: &str| a["regions"].as_array().unwrap().iter().find(|x| x["region"] == r).cloned().unwrap();
    let us = region(m, "us-east-1");
    let eu = region(m, "eu-west-1");
    let ap = region(m, "ap-southeast-2");
    let trail = |r: &Value, name: &str| r["cloudtrail"]["collected"].as_array().unwrap().iter().find(|t| t["name"] == name).cloned().unwrap();
    let org_trail = trail(&us, "org-trail");
    assert_eq!((org_trail["multi_region"].clone(), org_trail["logging"].clone(), org_trail["management_events"].clone()), (json!(true), json!(true), json!("All")));
    assert!(org_trail["kms_key_id"].is_string());
    assert_eq!(trail(&eu, "org-trail")["home_region"], "us-east-1", "shadow trail seen in eu-west-1");
    assert_eq!(trail(&eu, "eu-local")["log_file_validation"], false);
    let instances = us["ec2_metadata"]["collected"]["instances"].as_array().unwrap();
    let tokens = |id: &Value| instances.iter().find(|i| i["instance_id"] == *id).unwrap()["http_tokens"].clone();
    assert_eq!(tokens(&ids["instances"]["imdsv2"]), "required");
    assert_eq!(tokens(&ids["instances"]["imdsv1"]), "optional");
    assert_eq!(us["ec2_metadata_defaults"]["collected"]["http_tokens"], "required");
    assert_eq!(eu["ec2_metadata_defaults"]["collected"], json!({}));
    assert_eq!(ap["ec2_metadata_defaults"]["denied"]["action"], "ec2:GetInstanceMetadataDefaults");
    let aa = &us["access_analyzer"]["collected"];
    assert_eq!(aa["analyzers"].as_array().unwrap().len(), 2, "both pages of ListAnalyzers");
    assert_eq!(aa["findings"].as_array().unwrap().len(), 2, "both pages of ListFindings");
    assert_eq!(ap["access_analyzer"]["denied"]["action"], "access-analyzer:ListAnalyzers", "an unparseable 403 is denied");
    assert_eq!(eu["access_analyzer"]["collected"]["analyzers"], json!([]), "a throttled call is retried, not recorded as a gap");

    // --- the findings ---------------------------------------------------------------------
    let out = portcullis(&moto.endpoint(), None, &["scan", "--inventory", inv_path.to_str().unwrap(), "--json", "-"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = report["findings"].as_array().unwrap().clone();
    let trust = "aws_iam_role_cross_account_trust_restricted";
    assert_eq!(status_of(&f, trust, MGMT, "org-audit"), "pass", "an account inside the organization");
    assert_eq!(status_of(&f, trust, MGMT, "vendor-with-external-id"), "pass");
    assert_eq!(status_of(&f, trust, MGMT, "outside-no-external-id"), "fail");
    assert_eq!(status_of(&f, trust, MGMT, "outside-named-role"), "fail", "outside the organization a named role is not enough");
    assert_eq!(status_of(&f, "aws_iam_role_trust_not_public", MGMT, "public-role"), "fail");
    assert_eq!(status_of(&f, "aws_iam_role_oidc_trust_subject_restricted", MGMT, "github-any-repo"), "fail");
    assert_eq!(status_of(&f, "aws_iam_password_policy_strong", MGMT, MGMT), "fail");
    assert_eq!(status_of(&f, "aws_cloudtrail_multi_region_management_events", MGMT, "org-trail"), "pass");
    assert_eq!(status_of(&f, "aws_cloudtrail_multi_region_management_events", prod, prod), "fail");
    assert_eq!(status_of(&f, "aws_cloudtrail_log_file_validation", MGMT, "eu-local"), "fail");
    assert_eq!(status_of(&f, "aws_cloudtrail_kms_encryption", MGMT, "org-trail"), "pass");
    assert_eq!(status_of(&f, "aws_cloudtrail_kms_encryption", MGMT, "eu-local"), "fail");
    for (check, audit_status, prod_status) in [
        ("aws_organizations_scp_protects_cloudtrail", "fail", "pass"),
        ("aws_organizations_scp_denies_leave", "pass", "pass"),
        ("aws_organizations_scp_restricts_root", "fail", "pass"),
    ] {
        assert_eq!(status_of(&f, check, audit, audit), audit_status, "{check} audit");
        assert_eq!(status_of(&f, check, prod, prod), prod_status, "{check} prod");
        assert!(findings_of(&f, check, MGMT).is_empty(), "{check}: SCPs do not apply to the management account");
    }
    assert_eq!(status_of(&f, "aws_accessanalyzer_enabled", MGMT, "us-east-1"), "pass");
    assert_eq!(status_of(&f, "aws_accessanalyzer_enabled", MGMT, "eu-west-1"), "fail");
    assert_eq!(status_of(&f, "aws_accessanalyzer_enabled", MGMT, "ap-southeast-2"), "not_evaluated");
    assert_eq!(status_of(&f, "aws_accessanalyzer_no_active_findings", MGMT, "public-exports"), "fail");
    let imds = |id: &Value| status_of(&f, "aws_ec2_instance_imdsv2_required", MGMT, id.as_str().unwrap());
    assert_eq!((imds(&ids["instances"]["imdsv2"]).as_str(), imds(&ids["instances"]["imdsv1"]).as_str()), ("pass", "fail"));
    assert_eq!(status_of(&f, "aws_ec2_account_imdsv2_default", MGMT, "eu-west-1"), "fail");
    let audit_iam = findings_of(&f, "aws_iam_user_console_mfa_enabled", audit);
    assert_eq!(audit_iam.len(), 1);
    assert_eq!(audit_iam[0]["status"], "not_evaluated");
    assert!(audit_iam[0]["message"].as_str().unwrap().contains("sts:AssumeRole"), "{}", audit_iam[0]["message"]);
    let audit_trail = findings_of(&f, "aws_cloudtrail_multi_region_management_events", audit);
    assert_eq!(audit_trail[0]["status"], "not_evaluated");
    assert!(audit_trail[0]["message"].as_str().unwrap().contains("sts:AssumeRole"), "regional checks name the real cause: {}", audit_trail[0]["message"]);
    let cov = report["coverage"].as_array().unwrap();
    assert!(cov.iter().any(|c| c["scope"] == format!("{MGMT}/ap-southeast-2") && c["dataset"] == "aws_access_analyzer" && c["state"] == "denied"));

    // --- the same binary scans the live account directly, with the CI gate ------------------
    let out = portcullis(&moto.endpoint(), Some(&front), &["scan", "--aws", "--aws-regions", "us-east-1", "--fail-on", "high", "--sarif", dir.path().join("r.sarif").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("public-role"), "{table}");

    // --- lazy collection, and every account lists its own regions -----------------------------
    moto.reset_recording();
    let before = front.recorded().len();
    let out = portcullis(&moto.endpoint(), Some(&front), &["scan", "--aws", "--aws-org", "--checks", "aws_accessanalyzer_enabled", "--json", "-", "-q"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut calls = moto.recorded();
    calls.extend(front.recorded().into_iter().skip(before));
    let services: std::collections::BTreeSet<&str> = calls.iter().map(|(s, _)| s.as_str()).collect();
    assert!(!services.contains("iam") && !services.contains("cloudtrail"), "only what the selected check needs is read: {calls:?}");
    assert!(calls.iter().all(|(_, a)| a != "DescribeInstances"), "{calls:?}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = report["findings"].as_array().unwrap();
    assert_eq!(status_of(f, "aws_accessanalyzer_enabled", MGMT, "us-east-1"), "pass");
    assert_eq!(status_of(f, "aws_accessanalyzer_enabled", MGMT, "eu-west-1"), "fail", "the management account read both regions it listed");
    let gap = status_of(f, "aws_accessanalyzer_enabled", prod, "other-regions");
    assert_eq!(gap, "not_evaluated", "a member whose region list was refused says so instead of narrowing silently");
    let cov = report["coverage"].as_array().unwrap();
    assert!(cov.iter().any(|c| c["scope"] == prod && c["dataset"] == "aws_enabled_regions" && c["state"] == "denied" && c["action"] == "ec2:DescribeRegions"), "{cov:?}");
    assert!(cov.iter().filter(|c| c["dataset"] == "aws_credential_report").all(|c| c["state"] == "not_requested"), "nothing unrequested is read: {cov:?}");
}
