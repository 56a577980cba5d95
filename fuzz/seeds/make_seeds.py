#!/usr/bin/env python3
"""Writes the hand-made seed corpus of every fuzz target into fuzz/corpus/<target>/.

The XML seeds copy the shapes bt-dr-sim writes (tests/bt-dr-sim/src/command.rs, reporting.rs,
xml.rs) and the real appliance examples of bt-dr-core's tests; the document seeds copy the
README/doctest inventories and records; the p12 seeds are tests/fixtures/p12 plus low-iteration
bundles made by make_p12_seeds.sh. Run from the repository root; `make fuzz-seeds` does.
Seeds are named by content hash (like libFuzzer), so running this again adds nothing twice.
"""
import hashlib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


PROLOG = '<?xml version="1.0" encoding="UTF-8"?>\n\n'
CMD = ["http://www.bomgar.com/namespaces/API/command",
       "https://www.beyondtrust.com/namespaces/API/command"]
REP = ["http://www.bomgar.com/namespaces/API/reporting",
       "https://www.beyondtrust.com/namespaces/API/reporting"]

# --- xml ------------------------------------------------------------------------------------
for ns in CMD:
    put("xml", f'{PROLOG}<health_check xmlns="{ns}">\n\t<appliance id="0123456789abcdef0123456789abcdef">bt-a.example.com</appliance>\n\t<version>24.1.2 (37380-749b17ca33d2475427428f263608ae98d69f7a35)</version>\n\t<success>1</success>\n\t<failover_role>primary</failover_role>\n\t<enabled_shared_ips>\n\t\t<ip>10.0.0.9</ip>\n\t</enabled_shared_ips>\n\t<last_data_sync_time ts="1570408370">2019-10-07T00:32:50.877+0000</last_data_sync_time>\n\t<last_data_sync_status>success</last_data_sync_status>\n</health_check>\n')
    put("xml", f'{PROLOG}<health_check xmlns="{ns}">\n\t<appliance id="x">bt-b.example.com</appliance>\n\t<version>19.1.8 (37380-749b17ca)</version>\n\t<success>0</success>\n\t<failover_role>backup</failover_role>\n\t<error_message>disk almost full</error_message>\n</health_check>\n')
    put("xml", f'{PROLOG}<error xmlns="{ns}">Login failed</error>\n')
    put("xml", f'{PROLOG}<success xmlns="{ns}">Failover role changed. A data sync was started first.</success>\n')
    put("xml", f'{PROLOG}<api_information xmlns="{ns}">\n\t<api_version>1.19.0</api_version>\n\t<company_name>example</company_name>\n\t<timestamp>1574638362</timestamp>\n\t<permissions>\n\t\t<permission name="perm_command">full_access</permission>\n\t\t<permission name="perm_backup">1</permission>\n\t\t<permission name="perm_reporting_support">1</permission>\n\t\t<permission name="perm_reporting_archive">0</permission>\n\t\t<permission name="perm_configuration_vault_acount">1</permission>\n\t</permissions>\n</api_information>\n')
    put("xml", f'{PROLOG}<appliances xmlns="{ns}">\n\t<appliance id="0123">\n\t\t<name>bt-a</name>\n\t\t<public_hostname>bt-a.example.com</public_hostname>\n\t\t<cluster_role>single</cluster_role>\n\t\t<failover_role>primary</failover_role>\n\t\t<accepting_connections>1</accepting_connections>\n\t\t<timezone_offset>0</timezone_offset>\n\t</appliance>\n</appliances>\n')
    put("xml", f'{PROLOG}<connected_client_list xmlns="{ns}">\n\t<connected_client_summary>\n\t\t<representative>1</representative>\n\t</connected_client_summary>\n\t<connected_client id="7" type="representative"/>\n\t<connected_client id="8" type="push_agent"/>\n</connected_client_list>\n')
put("xml", '<ns:health_check xmlns:ns="https://www.beyondtrust.com/namespaces/API/command"><ns:appliance id="x"> h </ns:appliance><ns:version>24.1.2</ns:version><ns:success>0</ns:success><ns:error_message>disk</ns:error_message><ns:failover_role>backup</ns:failover_role><ns:enabled_shared_ips><ns:ip>10.0.0.9</ns:ip></ns:enabled_shared_ips><ns:last_data_sync_time>2019-10-07T00:32:50.877+0000</ns:last_data_sync_time><ns:last_data_sync_status>success</ns:last_data_sync_status></ns:health_check>')
put("xml", '<health_check><appliance id="x">h</appliance><version>24.1.2</version><success>1</success><last_data_sync_time>2019-10-07T00:32:50.877+05é0</last_data_sync_time></health_check>')
for ns in REP:
    put("xml", f'{PROLOG}<session_list xmlns="{ns}">\n\t<session lsid="c5b7e3a1d2f04b6e8a9c0d1e2f3a4b5c">\n\t\t<start_time timestamp="1570408370">2019-10-07T00:32:50+00:00</start_time>\n\t\t<end_time timestamp="1570408970">2019-10-07T00:42:50+00:00</end_time>\n\t\t<duration>00:10:00</duration>\n\t\t<public_site id="1">Default</public_site>\n\t\t<session_type>support</session_type>\n\t\t<primary_customer gsnumber="1">Customer 1</primary_customer>\n\t\t<primary_rep gsnumber="2" id="1">Rep 1</primary_rep>\n\t\t<session_recording_download_url>https://bt-a.example.com/api/reporting?generate_report=SupportSessionRecording&amp;lsid=c5b7</session_recording_download_url>\n\t</session>\n</session_list>\n')
    put("xml", f'{PROLOG}<session_list xmlns="{ns}">\n\t<session lsid="a1">\n\t\t<start_time timestamp="1570408370">2019-10-07T00:32:50+00:00</start_time>\n\t\t<end_time timestamp="1570408970">2019-10-07T00:42:50+00:00</end_time>\n\t\t<duration>600</duration>\n\t</session>\n</session_list>\n')
    put("xml", f'{PROLOG}<archives xmlns="{ns}">\n\t<state_archive>\n\t\t<time timestamp="1570406400">2019-10-07T00:00:00+00:00</time>\n\t\t<index>1</index>\n\t</state_archive>\n\t<event_archive>\n\t\t<start_time timestamp="1570406400">2019-10-07T00:00:00+00:00</start_time>\n\t\t<end_time timestamp="1570407000">2019-10-07T00:10:00+00:00</end_time>\n\t\t<index>1</index>\n\t</event_archive>\n</archives>\n')
    put("xml", f'{PROLOG}<error xmlns="{ns}">No archives found for the given search criteria.</error>\n')

# --- headers: byte 0 picks the status (0 = 429, 1 = 503, 2 = 403, 3 = 200) ---------------------
for v in ["1", "0", "30", "120", "1.5", "1e20", "-1", "NaN", "inf", "18446744073709551616",
          "Wed, 21 Oct 2015 07:28:00 GMT", " 7 ", "0x10", "", "99999999999999999999999"]:
    for status in (0, 1, 2):
        put("headers", bytes([status]) + v.encode())

# Body mode (bit 2): "<content type>\n<body>", bit 3 = complete body.
for ct, body in [("application/json", b'{"error": "access_denied", "message": "Bearer abcdefghijklmnopqrstuvwxyz012345"}'),
                 ("application/octet-stream", b"\xef\xbb\xbf<!DOCTYPE html><html><body>login</body></html>"),
                 ("text/xml", b'<?xml version="1.0"?><error>Login failed</error>'),
                 ("", b"\xff\xfe<\x00h\x00t\x00m\x00l\x00>\x00"),
                 ("application/octet-stream", b"BTNSB\x00\x01\x02binary backup data"),
                 ("text/plain; charset=utf-8", b"GET /api/backup HTTP/1.1\nauthorization: Bearer abcdefghijklmnopqrstuvwxyz0123456789\n"),
                 ("application/problem+json", b'{"type":"about:blank","title":"Bad Request","detail":"lsid is unknown"}'),
                 ("", b"  \r\n [1,2]")]:
    for status in (0, 1, 3):
        put("headers", bytes([4 | 8 | status]) + ct.encode() + b"\n" + body)
        put("headers", bytes([4 | status]) + ct.encode() + b"\n" + body[:7])

# --- file_name: Content-Disposition headers and bare names -----------------------------------
for v in ['attachment; filename="bomgar-24.1.2-support-20261120-5f3a9c01.nsb"',
          "attachment; filename*=UTF-8''x%2F..%2Fy.nsb",
          "attachment; filename*=UTF-8''%E2%82%AC%20rates.nsb",
          'attachment; filename="manifest.json"',
          'attachment; filename="../../etc/passwd"',
          'attachment; filename="c5b7e3a1.flv"',
          'attachment; filename="a\\\\b.nsb"; filename*=utf-8\'en\'b.nsb',
          "bomgar-19.1.8-site-2019-10-07-ab.nsb", "..", ".hidden", "dir/", "x.bt-dr.json",
          "checkpoint.json", "MANIFEST.JSON", "a" * 250 + ".nsb"]:
    put("file_name", v)

# --- names: backup names and versions -------------------------------------------------------
for v in ["bomgar-24.1.2-support-eu.example-2026-11-20-5f3a9c01.nsb",
          "bomgar-24.1.2-support-eu.example-20261120-5f3a9c01.nsb",
          "bomgar-24.1.2-support-20261120T020000-5f3a9c01.nsb",
          "bomgar-24.1.2-support-20261120-020000-5f3a9c01.nsb",
          "bomgar-24.1.2-support-2026-11-20-020000-5f3a9c01.nsb",
          "bomgar-24.1.2-support-2026-11-20T02:00:00-5f3a9c01.nsb",
          "bomgar-24.1.2-s-20261120-0123abcd-0123-4567-89ab-0123456789ab.NSB",
          "BOMGAR-19.1.8-x-20191007-1.nsb",
          "19.1.8 (37380-749b17ca33d2475427428f263608ae98d69f7a35)", "24.1.2", "23.2", "0.0.0",
          "18446744073709551615.0.1", " 1.2.3 ( 42-abcdef0 ) "]:
    put("names", v)

# --- documents: byte 0 = format (0 TOML, 1 JSON, 2 YAML) + 3 * type (0 inventory, 1 appliance
# record, 2 vault key record, 3 upgrade table) ------------------------------------------------
inv_toml = '''[[sites]]
name = "support"
fqdn = "support.example.com"
product = "rs"
version = "24.1.2"
'''
inv_json = json.dumps({"sites": [{"name": "support", "fqdn": "support.example.com",
                                  "product": "pra", "version": "24.1.2"}]})
inv_yaml = "sites:\n  - name: support\n    fqdn: support.example.com\n    product: rs\n    version: 24.1.2\n"
for fmt, text in ((0, inv_toml), (1, inv_json), (2, inv_yaml)):
    put("documents", bytes([fmt]) + text.encode())
vault = {"site": "support", "date": "2026-11-20", "file_name": "vault.key", "sha256": "ab" * 32,
         "size": 10, "password_protected": True, "recorded_at": "2026-11-20T02:00:00Z"}
put("documents", bytes([1 + 6]) + json.dumps(vault).encode())
upgrade = {"releases": [{"version": "24.1", "supported_upgrades_from": ["23.2", "23.3.1"]}]}
put("documents", bytes([1 + 9]) + json.dumps(upgrade).encode())
put("documents", bytes([0 + 9]) + b'[[releases]]\nversion = "24.1"\nsupported_upgrades_from = ["23.2"]\n')
GOOD = open(os.path.join(ROOT, "bt-dr-core", "tests", "records_and_inventory.rs")).read()
TOML_DOCS = []
for const, sel in (("GOOD", 0), ("RECORD", 3)):
    start = GOOD.find(f'const {const}: &str = r#"')
    if start >= 0:
        body = GOOD[start:].split('r#"', 1)[1].split('"#', 1)[0]
        TOML_DOCS.append((sel, body))
try:
    import tomllib
except ImportError:  # Python < 3.11: TOML seeds only
    tomllib = None
for sel, body in TOML_DOCS:
    put("documents", bytes([sel]) + body.encode())
    if tomllib:
        j = json.dumps(tomllib.loads(body), default=str)
        put("documents", bytes([sel + 1]) + j.encode())  # JSON
        put("documents", bytes([sel + 2]) + j.encode())  # YAML (JSON is YAML)
for extra in sys.argv[1:]:
    # Extra documents: <selector byte>:<file>
    sel, path = extra.split(":", 1)
    with open(path, "rb") as f:
        put("documents", bytes([int(sel)]) + f.read())

# --- pair: a few byte strings the structured builder turns into reports ----------------------
put("pair", bytes([1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 1, 0]))
put("pair", bytes([2]) + b"\x05abcde\x02xy\x00\x00\x00\x01\x00\x00\x01\x00\x01\x01\x02\xff\x00"
    + b"\x01\x00\x00\x00\x00\x01\x01\x00\x00\x01\x00\x01\x00")
put("pair", bytes([4, 3]) + "é".encode() * 40)

# --- verify: mode byte, file count, then per file (kind, path bytes, content) ---------------
put("verify", bytes([0, 3, 4, 1, 0, 5, 5]) + b"hello" + bytes([4, 1, 2, 3]) + b"abc"
    + bytes([0, 2, 0, 1, 1, 3, 0]))
put("verify", bytes([0, 2, 0, 1, 0, 1, 1, 0, 0, 2, 0, 1]))
put("verify", bytes([2, 4, 2, 0, 0, 3, 1, 3, 4, 0, 0, 4, 5, 0, 2, 2]))
put("verify", bytes([7, 0, 0]) + b'{"format":1,"files":[]}')
print("seeds written under", CORPUS)
