"""A local stand-in for Entra ID's token endpoint, Azure Resource Manager and Microsoft Graph.

Serves a tenant described by a scenario file (fixtures/azure/*.json), whose items are written in
the documented response shapes, over HTTPS with a certificate made for this run (trusted by the
client through SSL_CERT_FILE). It pages every list (ARM `nextLink`, management groups `@nextLink`,
Graph `@odata.nextLink`), checks tokens and their audience, and injects the faults the tests name:
denied permissions, missing licences, throttling with Retry-After, latency.

Usage: azure_fake.py SCENARIO --dir DIR [--page N] [--latency-ms N] [--deny PATH_PREFIX]...
       [--unlicensed PATH_PREFIX]... [--unlicensed-sign-in] [--throttle-once PATH_PREFIX]...
       [--users N] [--subscriptions N] [--canary SECRET] [--flaky N] [--no-beta]
Prints one JSON line with the three ports and the CA file once it listens; writes every request
to DIR/requests.jsonl.
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
import ipaddress


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def make_certs(d):
    """A CA and a server certificate for 127.0.0.1 signed by it; returns (ca path, cert, key)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "portcullis test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path = os.path.join(d, "ca.pem")
    with open(ca_path, "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    cert_path = os.path.join(d, "server.pem")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return ca_path, cert_path


def serve_https(handler, server_pem):
    """Serve `handler` over TLS on 127.0.0.1 and a free port, in a daemon thread; return the port."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(server_pem)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd.server_address[1]


def announce_and_wait(info):
    """Tell the test where we listen, then serve until it closes our stdin (or dies)."""
    print(json.dumps(info), flush=True)
    try:
        sys.stdin.read()
    except KeyboardInterrupt:
        pass


def make_client_certificate(d):
    """The app's own certificate for the client-certificate credential (PEM: key + cert)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "portcullis-scanner")])
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    path = os.path.join(d, "client.pem")
    with open(path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    return path, cert


class State:
    def __init__(self, args):
        with open(args.scenario) as f:
            self.s = json.load(f)
        self.args = args
        self.lock = threading.Lock()
        self.log = open(os.path.join(args.dir, "requests.jsonl"), "a")
        self.throttled = set()
        self.seen = 0          # --flaky: requests counted
        self.flaked = set()    # --flaky: requests that already failed once
        self.origins = {}
        self.client_cert = None
        if args.users:
            self.generate_users(args.users)
        if args.subscriptions:
            self.generate_subscriptions(args.subscriptions)

    def generate_users(self, n):
        users, reg = [], []
        for i in range(n):
            uid = "00000000-0000-4000-8000-%012d" % i
            users.append({"id": uid, "userPrincipalName": "user%d@contoso.example" % i, "userType": "Member",
                          "accountEnabled": True, "createdDateTime": "2024-01-01T00:00:00Z"})
            reg.append({"id": uid, "userPrincipalName": "user%d@contoso.example" % i, "isMfaRegistered": i % 7 != 0,
                        "methodsRegistered": ["microsoftAuthenticatorPush"] if i % 7 else [], "userType": "member"})
        self.s["graph"]["users"] = users
        self.s["graph"]["registration"] = reg

    def generate_subscriptions(self, n):
        base = self.s["subscriptions"][0]
        subs = []
        for i in range(n):
            sid = "50b00000-0000-4000-8000-%012d" % i
            s = json.loads(json.dumps(base).replace(base["subscriptionId"], sid))
            s["displayName"] = "generated-%d" % i
            subs.append(s)
        self.s["subscriptions"] = subs

    def record(self, server, method, path):
        with self.lock:
            self.log.write(json.dumps({"server": server, "method": method, "path": path}) + "\n")
            self.log.flush()


def jwt_unsigned(claims):
    return "%s.%s.%s" % (b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode()), b64url(json.dumps(claims).encode()), b64url(b"fake"))


def make_handler(state, server_name):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def send_json(self, status, body, headers=None):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            state.record(server_name, "POST", self.path)
            if server_name != "login":
                return self.send_json(405, {"error": {"code": "MethodNotAllowed", "message": "the scan must only read"}})
            length = int(self.headers.get("Content-Length", "0"))
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            tenant = self.path.strip("/").split("/")[0]
            sc = state.s
            err = lambda m: self.send_json(401, {"error": "invalid_client", "error_description": m, "error_codes": [7000215]})
            if tenant != sc["tenant_id"]:
                return self.send_json(400, {"error": "invalid_request", "error_description": "AADSTS90002: Tenant '%s' not found." % tenant, "error_codes": [90002]})
            if form.get("grant_type") != "client_credentials" or form.get("client_id") != sc["client_id"]:
                return err("AADSTS700016: unknown client")
            if "client_secret" in form:
                if form["client_secret"] != sc["client_secret"]:
                    return err("AADSTS7000215: Invalid client secret provided.")
            elif "client_assertion" in form:
                problem = self.check_assertion(form["client_assertion"], tenant)
                if problem:
                    return err("AADSTS700027: " + problem)
            else:
                return err("AADSTS7000218: no credential")
            scope = form.get("scope", "")
            aud = scope[: -len("/.default")] if scope.endswith("/.default") else scope
            now = int(time.time())
            claims = {"aud": aud, "tid": sc["tenant_id"], "appid": sc["client_id"], "iat": now, "exp": now + 3600}
            if state.args.canary:
                claims["xms_canary"] = state.args.canary  # a secret the token carries: it must never be logged
            token = jwt_unsigned(claims)
            self.send_json(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token})

        def check_assertion(self, a, tenant):
            try:
                h, c, s = a.split(".")
                header, claims = json.loads(unb64url(h)), json.loads(unb64url(c))
            except Exception as e:  # noqa: BLE001
                return "malformed assertion: %s" % e
            cert = state.client_cert
            if cert is None:
                return "no certificate registered"
            if header.get("alg") != "RS256":
                return "alg must be RS256"
            if header.get("x5t#S256") != b64url(cert.fingerprint(hashes.SHA256())):
                return "unknown certificate thumbprint"
            try:
                cert.public_key().verify(unb64url(s), ("%s.%s" % (h, c)).encode(), padding.PKCS1v15(), hashes.SHA256())
            except Exception:  # noqa: BLE001
                return "bad signature"
            want_aud = "%s/%s/oauth2/v2.0/token" % (state.origins["login"], tenant)
            if claims.get("aud") != want_aud:
                return "aud %r is not %r" % (claims.get("aud"), want_aud)
            if claims.get("iss") != state.s["client_id"] or claims.get("sub") != state.s["client_id"]:
                return "iss/sub must be the client id"
            if not (claims.get("nbf", 0) <= time.time() < claims.get("exp", 0)):
                return "assertion expired"
            return None

        def do_GET(self):
            state.record(server_name, "GET", self.path)
            if state.args.latency_ms:
                time.sleep(state.args.latency_ms / 1000.0)
            auth = self.headers.get("Authorization", "")
            try:
                claims = json.loads(unb64url(auth.split(" ", 1)[1].split(".")[1]))
            except Exception:  # noqa: BLE001
                return self.send_json(401, {"error": {"code": "InvalidAuthenticationToken", "message": "no bearer token"}})
            if claims.get("aud") != state.origins[server_name]:
                return self.send_json(401, {"error": {"code": "InvalidAuthenticationToken", "message": "wrong audience %s" % claims.get("aud")}})
            url = urllib.parse.urlsplit(self.path)
            path = urllib.parse.unquote(url.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            if state.args.flaky:
                with state.lock:
                    state.seen += 1
                    fault = state.seen % state.args.flaky == 0 and self.path not in state.flaked
                    if fault:
                        state.flaked.add(self.path)
                        kind = len(state.flaked) % 3
                if fault and kind == 0:
                    return self.send_json(503, {"error": {"code": "ServerBusy", "message": "The server is currently unable to handle the request."}})
                if fault and kind == 1:
                    return self.send_json(500, {"error": {"code": "InternalServerError", "message": "Encountered internal server error."}})
                if fault:
                    self.close_connection = True  # no answer: the connection just closes
                    return None
            for p in state.args.throttle_once:
                if path.startswith(p) and (p, query.get("$skiptoken")) not in state.throttled:
                    state.throttled.add((p, query.get("$skiptoken")))
                    return self.send_json(429, {"error": {"code": "TooManyRequests", "message": "slow down"}}, {"Retry-After": "1"})
            for p in state.args.deny:
                if path.startswith(p):
                    if server_name == "graph":
                        return self.send_json(403, {"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges to complete the operation.",
                                                              "innerError": {"date": "2026-11-30T10:00:00", "request-id": "r", "client-request-id": "c"}}})
                    return self.send_json(403, {"error": {"code": "AuthorizationFailed", "message": "The client '%s' does not have authorization to perform action over scope '%s'" % (state.s["client_id"], path)}})
            unlicensed = any(path.startswith(p) for p in state.args.unlicensed) or (
                state.args.unlicensed_sign_in and path.endswith("/users") and "signInActivity" in query.get("$select", ""))
            if unlicensed:
                return self.send_json(403, {"error": {"code": "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                                                      "message": "Neither tenant is B2C or tenant doesn't have premium license",
                                                      "innerError": {"date": "2026-11-30T10:00:00", "request-id": "r", "client-request-id": "c"}}})
            if server_name == "arm":
                return self.arm(path, query)
            return self.graph(path, query)

        def page(self, items, query, link_key, size=None):
            size = size or state.args.page
            start = int(query.get("$skiptoken", "0"))
            body = {"value": items[start:start + size]}
            if start + size < len(items):
                q = dict(query)
                q["$skiptoken"] = str(start + size)
                origin = state.origins[server_name]
                body[link_key] = "%s%s?%s" % (origin, urllib.parse.urlsplit(self.path).path, urllib.parse.urlencode(q))
            return self.send_json(200, body)

        def arm(self, path, query):
            sc = state.s
            parts = [p for p in path.split("/") if p]
            low = [p.lower() for p in parts]
            if len(low) >= 3 and low[-3:-1] == ["microsoft.authorization", "roledefinitions"]:
                # One role definition by id (Role Definitions - Get, at any scope): the listed ones
                # and those a subscription's list leaves out (`extra_role_definitions`: custom roles
                # assignable only below it). Served with the permission blocks whole (dataActions,
                # notDataActions, condition) as the 2022-05-01-preview API returns them.
                guid = low[-1]
                for sub in sc["subscriptions"]:
                    for d in sub.get("role_definitions", []) + sub.get("extra_role_definitions", []):
                        if d["name"].lower() == guid:
                            return self.send_json(200, d)
                return self.send_json(404, {"error": {"code": "RoleDefinitionDoesNotExist", "message": "The specified role definition with ID '%s' does not exist." % parts[-1]}})
            if low == ["subscriptions"]:
                subs = [{"id": "/subscriptions/" + s["subscriptionId"], "subscriptionId": s["subscriptionId"], "displayName": s["displayName"],
                         "state": s.get("state", "Enabled"), "tenantId": sc["tenant_id"], "authorizationSource": "RoleBased"} for s in sc["subscriptions"]]
                return self.page(subs, query, "nextLink")
            if low[:3] == ["providers", "microsoft.management", "managementgroups"] and len(low) == 4:
                if parts[3] != sc["tenant_id"]:
                    return self.send_json(404, {"error": {"code": "NotFound", "message": "management group not found"}})
                return self.send_json(200, sc["management_groups"])
            if len(low) >= 5 and low[0] == "subscriptions" and low[2] == "providers":
                sub = next((s for s in sc["subscriptions"] if s["subscriptionId"] == parts[1]), None)
                if sub is None:
                    return self.send_json(404, {"error": {"code": "SubscriptionNotFound", "message": "The subscription '%s' could not be found." % parts[1]}})
                key = {
                    ("microsoft.authorization", "roleassignments"): "role_assignments",
                    ("microsoft.authorization", "roleeligibilityscheduleinstances"): "role_eligibility",
                    ("microsoft.authorization", "roledefinitions"): "role_definitions",
                    ("microsoft.authorization", "policyassignments"): "policy_assignments",
                    ("microsoft.insights", "diagnosticsettings"): "diagnostic_settings",
                    ("microsoft.managedservices", "registrationassignments"): "lighthouse",
                }.get((low[3], low[4]))
                if key is None:
                    return self.send_json(404, {"error": {"code": "InvalidResourceType", "message": path}})
                items = sub.get(key, [])
                if key in ("role_assignments", "role_eligibility"):
                    # The strict reading of the documentation: the plain list holds what is at or
                    # below the subscription; $filter=atScope() what is at or above it.
                    def above(i):
                        sc = i["properties"]["scope"].lower()
                        return not sc.startswith("/subscriptions/") or sc.rstrip("/") == "/subscriptions/" + parts[1].lower()
                    if query.get("$filter") == "atScope()":
                        items = [i for i in items if above(i)]
                    else:
                        items = [i for i in items if i["properties"]["scope"].lower().startswith("/subscriptions/")]
                if key == "diagnostic_settings":
                    return self.send_json(200, {"value": items})  # not paged
                if key == "lighthouse" and query.get("$expandRegistrationDefinition") != "true":
                    items = [{k: v for k, v in i.items()} | {"properties": {k: v for k, v in i["properties"].items() if k != "registrationDefinition"}} for i in items]
                return self.page(items, query, "nextLink")
            return self.send_json(404, {"error": {"code": "NotFound", "message": path}})

        def graph(self, path, query):
            g = state.s["graph"]
            version = path.split("/")[1] if path.count("/") >= 2 else ""
            if version not in ("v1.0", "beta") or (version == "beta" and state.args.no_beta):
                return self.send_json(404, {"error": {"code": "BadRequest", "message": "Invalid version"}})
            rest = path[len("/" + version):]
            top = int(query.get("$top", "100"))
            select = [s for s in query.get("$select", "").split(",") if s]
            if rest == "/roleManagement/directory/roleDefinitions":
                # unifiedRoleDefinition: isPrivileged exists on beta only; v1.0 refuses to select it.
                if version == "v1.0" and "isPrivileged" in select:
                    return self.send_json(400, {"error": {"code": "BadRequest", "message": "Could not find a property named 'isPrivileged' on type 'microsoft.graph.unifiedRoleDefinition'."}})
                defs = g.get("directory_role_definitions", [])
                if version == "v1.0":
                    defs = [{k: v for k, v in d.items() if k != "isPrivileged"} for d in defs]
                return self.page([{k: v for k, v in d.items() if not select or k in select or k == "id"} for d in defs], query, "@odata.nextLink", state.args.page)
            if version == "beta":
                return self.send_json(404, {"error": {"code": "BadRequest", "message": "this fake serves only roleDefinitions from beta"}})

            def pick(items):
                # Properties only a single read returns stay out of lists.
                return [{k: v for k, v in i.items() if (not select or k in select or k == "id") and k not in ("signInSessionsValidFromDateTime", "federatedIdentityCredentials")} for i in items]

            if rest == "/users":
                return self.page(pick(g["users"]), query, "@odata.nextLink", min(top, 999))
            if rest == "/reports/authenticationMethods/userRegistrationDetails":
                return self.page(pick(g["registration"]), query, "@odata.nextLink", min(top, 999))
            def with_secrets(items):
                # --canary: answers that carry secret values (Graph returns secretText only on
                # creation; a hostile or buggy answer could carry it anywhere).
                if not state.args.canary:
                    return items
                return [dict(a, passwordCredentials=[dict(c, secretText=state.args.canary) for c in a.get("passwordCredentials", [])]) for a in items]

            if rest == "/applications":
                return self.page(pick(with_secrets(g["applications"])), query, "@odata.nextLink", min(top, 999))
            if rest == "/servicePrincipals":
                return self.page(pick(with_secrets(g["service_principals"])), query, "@odata.nextLink", min(top, 999))
            if rest == "/roleManagement/directory/roleAssignments":
                return self.page(self.expand(g["directory_roles"], query), query, "@odata.nextLink", state.args.page)
            if rest == "/roleManagement/directory/roleEligibilityScheduleInstances":
                return self.page(self.expand(g["directory_eligibility"], query), query, "@odata.nextLink", state.args.page)
            parts = rest.strip("/").split("/")
            not_found = lambda what: self.send_json(404, {"error": {"code": "Request_ResourceNotFound",
                                                                     "message": "Resource '%s' does not exist or one of its queried reference-property objects are not present." % what}})
            if len(parts) == 2 and parts[0] == "users":
                # One user by object id or UPN (case-insensitive), with the properties only a
                # $select returns (signInSessionsValidFromDateTime).
                u = next((u for u in g["users"] if parts[1].lower() in (u["id"].lower(), u["userPrincipalName"].lower())), None)
                if u is None:
                    return not_found(parts[1])
                one = {k: v for k, v in u.items() if k != "signInActivity" and (not select or k in select or k == "id")}
                for k in select:
                    one.setdefault(k, None)
                return self.send_json(200, dict({"@odata.context": "%s/v1.0/$metadata#users(%s)/$entity" % (state.origins["graph"], ",".join(select))}, **one))
            if len(parts) == 3 and parts[0] == "directory" and parts[1] == "deletedItems":
                d = next((d for d in g.get("deleted", []) if d["id"].lower() == parts[2].lower()), None)
                return self.send_json(200, d) if d else not_found(parts[2])
            if len(parts) == 3 and parts[0] == "applications" and parts[2] == "federatedIdentityCredentials":
                app = next((a for a in g["applications"] if a["id"] == parts[1]), None)
                if app is None:
                    return not_found(parts[1])
                return self.page(app.get("federatedIdentityCredentials", []), query, "@odata.nextLink", min(top, 999))
            if rest == "/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances":
                # privilegedAccessGroupEligibilityScheduleInstance: $filter on groupId (or principalId) is required.
                f = query.get("$filter", "")
                if not f.startswith("groupId eq '") or not f.endswith("'"):
                    return self.send_json(400, {"error": {"code": "BadRequest", "message": "Filter on groupId or principalId is required."}})
                gid = f[len("groupId eq '"):-1]
                items = [dict({"id": "ge-%s-%d" % (gid[:8], i), "groupId": gid, "accessId": "member", "memberType": "direct",
                               "startDateTime": "2026-06-01T00:00:00Z", "endDateTime": None}, **e) for i, e in enumerate(g.get("group_eligibility", {}).get(gid, []))]
                if query.get("$expand") == "principal":
                    items = [dict(i, principal=self.principal(i["principalId"])) for i in items]
                return self.page(items, query, "@odata.nextLink", state.args.page)
            if len(parts) == 3 and parts[0] == "groups" and parts[2] == "transitiveMembers":
                # Every member type, each with its @odata.type (a directoryObject collection).
                members = g.get("groups", {}).get(parts[1])
                if members is None:
                    return self.send_json(404, {"error": {"code": "Request_ResourceNotFound", "message": "Resource '%s' does not exist" % parts[1]}})
                return self.page([{"@odata.type": self.principal(m)["@odata.type"], "id": m} for m in members], query, "@odata.nextLink", min(top, 999))
            if len(parts) == 4 and parts[0] == "groups" and parts[2] == "transitiveMembers" and parts[3] == "microsoft.graph.user":
                members = g.get("groups", {}).get(parts[1])
                if members is None:
                    return self.send_json(404, {"error": {"code": "Request_ResourceNotFound", "message": "Resource '%s' does not exist" % parts[1]}})
                return self.page([{"@odata.type": "#microsoft.graph.user", "id": m} for m in members], query, "@odata.nextLink", min(top, 999))
            if len(parts) == 3 and parts[0] in ("users", "applications", "servicePrincipals") and parts[2] in ("owners", "ownedObjects", "appRoleAssignments", "oauth2PermissionGrants"):
                return self.relation(parts[0], parts[1], parts[2], query, top, not_found)
            return self.send_json(404, {"error": {"code": "Request_ResourceNotFound", "message": rest}})

        def relation(self, kind, key, rel, query, top, not_found):
            """One principal's relationships, as Graph v1.0 lists them: owners and ownedObjects
            (directoryObject collections, each item with its @odata.type), appRoleAssignments
            (granted to the principal) and oauth2PermissionGrants (a user's: principalId is it;
            a service principal's: clientId is it). Scenario keys: graph.owners {objectId:
            [ownerId]}, graph.app_role_assignments, graph.oauth2_permission_grants."""
            g = state.s["graph"]
            coll = {"users": g["users"], "applications": g["applications"], "servicePrincipals": g["service_principals"]}[kind]
            me = next((o for o in coll if key.lower() in (o["id"].lower(), o.get("userPrincipalName", "").lower())), None)
            if me is None or (kind == "applications" and rel != "owners"):
                return not_found(key)
            oid = me["id"]
            owners = g.get("owners", {})
            if rel == "owners":
                items = [self.directory_object(o) for o in owners.get(oid, [])]
            elif rel == "ownedObjects":
                items = [self.directory_object(o) for o, who in owners.items() if oid in who]
            elif rel == "appRoleAssignments":
                items = [a for a in g.get("app_role_assignments", []) if a["principalId"] == oid]
            else:
                field = "principalId" if kind == "users" else "clientId"
                items = [x for x in g.get("oauth2_permission_grants", []) if x.get(field) == oid]
            return self.page(items, query, "@odata.nextLink", min(top, 999))

        def directory_object(self, oid):
            g = state.s["graph"]
            for key, t in (("applications", "application"), ("service_principals", "servicePrincipal")):
                o = next((o for o in g[key] if o["id"] == oid), None)
                if o:
                    return {"@odata.type": "#microsoft.graph." + t, "id": oid, "appId": o.get("appId"), "displayName": o.get("displayName")}
            u = next((u for u in g["users"] if u["id"] == oid), None)
            if u:
                return {"@odata.type": "#microsoft.graph.user", "id": oid, "userPrincipalName": u["userPrincipalName"], "displayName": u["userPrincipalName"].split("@")[0]}
            if oid in g.get("groups", {}):
                return {"@odata.type": "#microsoft.graph.group", "id": oid, "displayName": g.get("group_names", {}).get(oid, oid)}
            return {"@odata.type": "#microsoft.graph.directoryObject", "id": oid}

        def principal(self, pid):
            g = state.s["graph"]
            u = next((u for u in g["users"] if u["id"] == pid), None)
            if u:
                return {"@odata.type": "#microsoft.graph.user", "id": pid, "userPrincipalName": u["userPrincipalName"], "userType": u.get("userType")}
            if pid in g.get("groups", {}):
                return {"@odata.type": "#microsoft.graph.group", "id": pid, "displayName": g.get("group_names", {}).get(pid, pid)}
            sp = next((s for s in g["service_principals"] if s["id"] == pid), None)
            return {"@odata.type": "#microsoft.graph.servicePrincipal", "id": pid, "displayName": sp["displayName"] if sp else pid}

        def expand(self, items, query):
            if query.get("$expand") != "principal":
                return items
            return [dict(i, principal=self.principal(i["principalId"])) for i in items]

    return H


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--page", type=int, default=2)
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--deny", action="append", default=[])
    ap.add_argument("--flaky", type=int, default=0, help="every Nth request fails once: 503, 500 or a dropped connection in turn")
    ap.add_argument("--unlicensed", action="append", default=[])
    ap.add_argument("--unlicensed-sign-in", action="store_true")
    ap.add_argument("--throttle-once", action="append", default=[])
    ap.add_argument("--users", type=int, default=0)
    ap.add_argument("--subscriptions", type=int, default=0)
    ap.add_argument("--canary", help="a secret value put into tokens and app credentials")
    ap.add_argument("--no-beta", action="store_true", help="answer 404 to every Graph beta request (a cloud without beta)")
    args = ap.parse_args()
    state = State(args)
    ca, server_pem = make_certs(args.dir)
    client_pem, state.client_cert = make_client_certificate(args.dir)
    ports = {}
    for name in ("login", "arm", "graph"):
        ports[name] = serve_https(make_handler(state, name), server_pem)
        state.origins[name] = "https://127.0.0.1:%d" % ports[name]
    announce_and_wait({"ports": ports, "ca": ca, "client_certificate": client_pem})


if __name__ == "__main__":
    main()
