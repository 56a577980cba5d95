/* Offline operations of the C API: status plumbing, versions, names, restore rules, inventory,
 * certificate bundles, records. Needs BT_DR_FIXTURES (the p12 fixture folder) and BT_DR_TMP (a
 * scratch folder). */
#include <stdint.h>

#include "test_util.h"

static char fixtures[1024];
static char tmpdir[1024];

static const char *fixture(const char *name) {
  static char path[2048];
  snprintf(path, sizeof path, "%s/%s", fixtures, name);
  return path;
}

/* Test hook of the library, deliberately not declared in bt_dr.h (not API). */
bt_dr_status bt_dr_test_hook_panic(void);

static void test_status_plumbing(void) {
  const char *name = NULL;
  OK(bt_dr_status_name(BT_DR_STATUS_PERMISSION_DENIED, &name));
  CHECK(name != NULL && strcmp(name, "permission_denied") == 0);
  OK(bt_dr_status_name(BT_DR_STATUS_PANIC, &name));
  CHECK(strcmp(name, "panic") == 0);
  OK(bt_dr_status_name(BT_DR_STATUS_OK, &name));
  CHECK(strcmp(name, "ok") == 0);
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_status_name(42, &name));
  FAILS(BT_DR_STATUS_NULL_ARGUMENT, bt_dr_status_name(0, NULL));
  /* The numbers are the core's ErrorKind::status() values. */
  CHECK(BT_DR_STATUS_INVALID_INPUT == 1 && BT_DR_STATUS_AUTH == 5 && BT_DR_STATUS_WRONG_PASSPHRASE == 8);
  CHECK(BT_DR_STATUS_NOT_FOUND == 17);
  CHECK(BT_DR_STATUS_INTERNAL == 18);
  OK(bt_dr_status_name(BT_DR_STATUS_INTERNAL, &name));
  CHECK(strcmp(name, "internal") == 0);
  CHECK(BT_DR_STATUS_NULL_ARGUMENT != BT_DR_STATUS_PANIC);

  /* A panic inside bt-dr is caught by the guard and comes back as the core's internal error,
   * status 18, with the function named (run-tests.sh sets BT_DR_TEST_PANIC for this hook). */
  FAILS(BT_DR_STATUS_INTERNAL, bt_dr_test_hook_panic());
  CONTAINS(tu_last_message(), "bt_dr_test_hook_panic: internal error in bt-dr");
  CONTAINS(tu_last_message(), "test panic (C)");
  char *panic_details = tu_last_details();
  CONTAINS(panic_details, "\"kind\":\"internal\"");
  CONTAINS(panic_details, "\"function\":\"bt_dr_test_hook_panic\"");
  FREE(panic_details);
  /* The library still works after a caught panic. */
  OK(bt_dr_status_name(BT_DR_STATUS_OK, &name));

  const char *version = NULL;
  OK(bt_dr_version(&version));
  CHECK(version != NULL && strlen(version) > 0);

  /* NULL arguments are reported, with the argument's name. */
  char *json = (char *)0x1; /* must stay untouched on failure */
  FAILS(BT_DR_STATUS_NULL_ARGUMENT, bt_dr_parse_version(NULL, &json));
  CHECK(json == (char *)0x1);
  CONTAINS(tu_last_message(), "bt_dr_parse_version: argument `text` is NULL");
  char *details = tu_last_details();
  CONTAINS(details, "\"kind\":\"null_argument\"");
  CONTAINS(details, "\"argument\":\"text\"");
  FREE(details);
  FAILS(BT_DR_STATUS_NULL_ARGUMENT, bt_dr_parse_version("24.1.2", NULL));

  /* The message buffer protocol: size query, truncation, NUL termination. */
  size_t full = 0;
  OK(bt_dr_last_error_message(NULL, 0, &full));
  CHECK(full == strlen("bt_dr_parse_version: argument `out_json` is NULL"));
  char small[8];
  memset(small, 'x', sizeof small);
  size_t n = 0;
  OK(bt_dr_last_error_message(small, sizeof small, &n));
  CHECK(n == full);
  CHECK(small[7] == 0 && strcmp(small, "bt_dr_p") == 0);
  FAILS(BT_DR_STATUS_NULL_ARGUMENT, bt_dr_last_error_message(small, sizeof small, NULL));
  FAILS(BT_DR_STATUS_NULL_ARGUMENT, bt_dr_last_error_message(NULL, 4, &n));

  /* Strings must be UTF-8. */
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_parse_version("\xff\xfe", &json));
  CONTAINS(tu_last_message(), "not valid UTF-8");

  /* Free functions accept NULL. */
  OK(bt_dr_string_free(NULL));
  OK(bt_dr_bundle_report_free(NULL));
  OK(bt_dr_inventory_free(NULL));
  OK(bt_dr_upgrade_table_free(NULL));
  OK(bt_dr_client_free(NULL));
  OK(bt_dr_client_builder_free(NULL));
  OK(bt_dr_health_free(NULL));
  OK(bt_dr_cancel_token_free(NULL));

  char *ops = NULL;
  OK(bt_dr_operations_json(&ops));
  CONTAINS(ops, "\"name\":\"check_restore\"");
  FREE(ops);
}

static void test_versions_and_names(void) {
  char *json = NULL;
  OK(bt_dr_parse_version("19.1.8 (37380-749b17ca33d2475427428f263608ae98d69f7a35)", &json));
  CONTAINS(json, "\"release\":\"19.1.8\"");
  CONTAINS(json, "\"build_number\":37380");
  CONTAINS(json, "\"major\":19");
  FREE(json);

  FAILS(BT_DR_STATUS_PARSE, bt_dr_parse_version("24.1", &json));
  char *details = tu_last_details();
  CONTAINS(details, "\"kind\":\"parse\"");
  CONTAINS(details, "\"what\":\"product version\"");
  FREE(details);

  json = NULL;
  OK(bt_dr_parse_backup_name("bomgar-24.1.2-support-eu.example-2026-11-20-5f3a9c01.nsb", &json));
  CONTAINS(json, "\"site\":\"support-eu.example\"");
  CONTAINS(json, "\"date\":\"2026-11-20\"");
  CONTAINS(json, "\"id\":\"5f3a9c01\"");
  CONTAINS(json, "\"time\":null");
  FREE(json);
  FAILS(BT_DR_STATUS_PARSE, bt_dr_parse_backup_name("../etc/passwd", &json));

  char *name = NULL;
  OK(bt_dr_format_backup_name("24.1.2", "support", "2026-11-20", "01:02:03", "5f3a9c01", &name));
  CHECK(name && strcmp(name, "bomgar-24.1.2-support-20261120T010203-5f3a9c01.nsb") == 0);
  FREE(name);
  name = NULL;
  OK(bt_dr_format_backup_name("24.1.2", "support", "2026-11-20", NULL, "5f3a9c01", &name));
  CHECK(name && strcmp(name, "bomgar-24.1.2-support-20261120-5f3a9c01.nsb") == 0);
  FREE(name);
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_format_backup_name("24.1.2", "bad/site", "2026-11-20", NULL, "1", &name));
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_format_backup_name("24.1.2", "support", "20-11-2026", NULL, "1", &name));
}

static void test_restore_and_coverage(void) {
  bt_dr_upgrade_table *table = NULL;
  OK(bt_dr_parse_upgrade_table("[[releases]]\nversion = \"24.1\"\nsupported_upgrades_from = [\"23.2\"]\n",
                               "toml", &table));
  bt_dr_restore_compatibility c = BT_DR_RESTORE_COMPATIBILITY_REFUSED;
  char *json = NULL;
  OK(bt_dr_check_restore("23.2.1", "24.1.0", table, NULL, NULL, &c, &json));
  CHECK(c == BT_DR_RESTORE_COMPATIBILITY_SUPPORTED);
  CONTAINS(json, "\"compatibility\":\"supported\"");
  FREE(json);
  OK(bt_dr_check_restore("22.1.0", "24.1.0", table, "rs", "rs", &c, &json));
  CHECK(c == BT_DR_RESTORE_COMPATIBILITY_UNTESTED);
  CONTAINS(json, "\"warning\":\"");
  FREE(json);
  OK(bt_dr_check_restore("24.2.0", "24.1.0", NULL, NULL, NULL, &c, &json));
  CHECK(c == BT_DR_RESTORE_COMPATIBILITY_REFUSED);
  FREE(json);
  OK(bt_dr_check_restore("24.1.0", "24.1.0", NULL, "rs", "pra", &c, &json));
  CHECK(c == BT_DR_RESTORE_COMPATIBILITY_REFUSED);
  FREE(json);
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_check_restore("24.1.0", "24.1.0", NULL, "xx", NULL, &c, &json));
  char *tj = NULL;
  OK(bt_dr_upgrade_table_to_json(table, &tj));
  CONTAINS(tj, "\"supported_upgrades_from\":[\"23.2\"]");
  FREE(tj);
  bt_dr_upgrade_table_free(table);

  table = NULL;
  FAILS(BT_DR_STATUS_PARSE, bt_dr_parse_upgrade_table("[[releases]]\nversion = 1\n", "toml", &table));
  CHECK(table == NULL);
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_parse_upgrade_table("", "ini", &table));
  FAILS(BT_DR_STATUS_IO, bt_dr_load_upgrade_table("/nonexistent/upgrades.toml", &table));
  char *details = tu_last_details();
  CONTAINS(details, "\"path\":\"/nonexistent/upgrades.toml\"");
  FREE(details);

  OK(bt_dr_nsb_coverage("pra", false, &json));
  CONTAINS(json, "\"vault_encryption_key\"");
  CONTAINS(json, "\"product\":\"pra\"");
  CONTAINS(json, "\"report_kinds\":[\"session_recording\"");
  FREE(json);
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_nsb_coverage("zz", false, &json));
}

static void test_inventory(void) {
  const char *toml =
      "[[sites]]\nname = \"support\"\nfqdn = \"support.example.com\"\nproduct = \"rs\"\nversion = \"24.1.2\"\n"
      "[[sites]]\nname = \"access\"\nfqdn = \"access.example.com\"\nproduct = \"pra\"\nversion = \"24.3.1\"\n";
  bt_dr_inventory *inv = NULL;
  OK(bt_dr_parse_inventory(toml, "toml", &inv));
  size_t count = 0;
  OK(bt_dr_inventory_site_count(inv, &count));
  CHECK(count == 2);
  char *json = NULL;
  OK(bt_dr_inventory_to_json(inv, &json));
  CONTAINS(json, "\"fqdn\":\"access.example.com\"");
  CONTAINS(json, "\"custom_certificate\":false");
  CONTAINS(json, "\"thresholds\":{");
  CONTAINS(json, "\"max_backup_age_hours\":26");
  FREE(json);
  bt_dr_inventory_free(inv);
  /* The inventory's thresholds are bt-dr's choices unless it says otherwise. */
  inv = NULL;
  char with_limits[1024];
  snprintf(with_limits, sizeof with_limits, "%s[thresholds]\ncertificate_horizon_days = 45\n", toml);
  OK(bt_dr_parse_inventory(with_limits, "toml", &inv));
  OK(bt_dr_inventory_to_json(inv, &json));
  CONTAINS(json, "\"certificate_horizon_days\":45");
  FREE(json);
  bt_dr_inventory_free(inv);
  snprintf(with_limits, sizeof with_limits, "%s[thresholds]\nmin_rsa_bits = 512\n", toml);
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_parse_inventory(with_limits, "toml", &inv));
  /* A NULL format is the library's default format (TOML), not a NULL-argument error. */
  inv = NULL;
  OK(bt_dr_parse_inventory(toml, NULL, &inv));
  OK(bt_dr_inventory_site_count(inv, &count));
  CHECK(count == 2);
  bt_dr_inventory_free(inv);
  inv = NULL;
  FAILS(BT_DR_STATUS_PARSE, bt_dr_parse_inventory("{\"sites\": []}", NULL, &inv));
  CHECK(inv == NULL);

  /* Written to a file and loaded by extension. */
  char path[2048];
  snprintf(path, sizeof path, "%s/inventory.toml", tmpdir);
  FILE *f = fopen(path, "w");
  fputs(toml, f);
  fclose(f);
  inv = NULL;
  OK(bt_dr_load_inventory(path, &inv));
  OK(bt_dr_inventory_site_count(inv, &count));
  CHECK(count == 2);
  bt_dr_inventory_free(inv);

  /* A duplicate site is a rule violation, a typo a parse error with its place. */
  const char *dup = "[[sites]]\nname = \"a\"\nfqdn = \"a.example.com\"\nproduct = \"rs\"\nversion = \"24.1.2\"\n"
                    "[[sites]]\nname = \"a\"\nfqdn = \"b.example.com\"\nproduct = \"rs\"\nversion = \"24.1.2\"\n";
  inv = NULL;
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_parse_inventory(dup, "toml", &inv));
  CHECK(inv == NULL);
  FAILS(BT_DR_STATUS_PARSE, bt_dr_parse_inventory("[[sites]]\nname = \"a\"\nfqdn = 3\n", "toml", &inv));
  char *details = tu_last_details();
  CONTAINS(details, "\"line\":");
  FREE(details);
}

static void test_certificates(void) {
  const char *opts = "{\"site_fqdn\":\"support.example.com\",\"appliance_hostnames\":[\"bt-a.example.com\",\"bt-b.example.com\"],"
                     "\"now\":\"2026-11-20T00:00:00Z\"}";
  size_t len = 0;
  unsigned char *bytes = tu_read_file(fixture("default_chain.p12"), &len);
  CHECK(bytes != NULL && len > 0);
  bt_dr_bundle_report *good = NULL;
  OK(bt_dr_check_certificate_bundle(bytes, len, "fixture-pass", opts, &good));
  bool usable = false;
  OK(bt_dr_bundle_report_is_usable(good, &usable));
  CHECK(usable);
  bt_dr_severity worst = BT_DR_SEVERITY_CRITICAL;
  OK(bt_dr_bundle_report_worst_severity(good, &worst));
  CHECK(worst <= BT_DR_SEVERITY_WARNING);
  char *json = NULL;
  OK(bt_dr_bundle_report_to_json(good, &json));
  CONTAINS(json, "\"has_private_key\":true");
  CONTAINS(json, "\"key_matches_leaf\":true");
  CONTAINS(json, "\"chain\":[");
  CONTAINS(json, "\"usable\":true");
  CHECK(!tu_contains(json, "fixture-pass"));
  FREE(json);

  /* The wrong passphrase has its own status, and the passphrase is in no message. */
  bt_dr_bundle_report *r = NULL;
  FAILS(BT_DR_STATUS_WRONG_PASSPHRASE, bt_dr_check_certificate_bundle(bytes, len, "not-the-pass", NULL, &r));
  CHECK(r == NULL);
  CHECK(!tu_contains(tu_last_message(), "not-the-pass"));
  char *details = tu_last_details();
  CONTAINS(details, "\"kind\":\"wrong_passphrase\"");
  CHECK(!tu_contains(details, "not-the-pass"));
  FREE(details);
  NO_SECRET("not-the-pass");
  /* A passphrase given with a damaged bundle is in no error text either. */
  bt_dr_status damaged = bt_dr_check_certificate_bundle(bytes, 100, "p12-pass-Wd81-secret", NULL, &r);
  CHECK(damaged == BT_DR_STATUS_CERTIFICATE || damaged == BT_DR_STATUS_WRONG_PASSPHRASE);
  NO_SECRET("p12-pass-Wd81-secret");
  FAILS(BT_DR_STATUS_NULL_ARGUMENT, bt_dr_check_certificate_bundle(NULL, len, "x", NULL, &r));
  FAILS(BT_DR_STATUS_CERTIFICATE, bt_dr_check_certificate_bundle(bytes, 100, "fixture-pass", NULL, &r));
  FAILS(BT_DR_STATUS_PARSE, bt_dr_check_certificate_bundle(bytes, len, "fixture-pass", "{\"min_rsa_bits\":\"x\"}", &r));
  free(bytes);

  /* From a file: an expired leaf is a finding, not an error. */
  bt_dr_bundle_report *expired = NULL;
  OK(bt_dr_check_certificate_bundle_file(fixture("expired.p12"), "fixture-pass", opts, &expired));
  OK(bt_dr_bundle_report_is_usable(expired, &usable));
  CHECK(!usable);
  OK(bt_dr_bundle_report_worst_severity(expired, &worst));
  CHECK(worst == BT_DR_SEVERITY_CRITICAL);
  size_t findings = 0;
  OK(bt_dr_bundle_report_finding_count(expired, &findings));
  CHECK(findings >= 1);
  char *finding = NULL;
  OK(bt_dr_bundle_report_finding_json(expired, 0, &finding));
  CONTAINS(finding, "\"severity\":\"critical\"");
  FREE(finding);
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_bundle_report_finding_json(expired, findings, &finding));
  FAILS(BT_DR_STATUS_CERTIFICATE, bt_dr_check_certificate_bundle_file(fixture("not_a_p12.p12"), "fixture-pass", NULL, &r));
  FAILS(BT_DR_STATUS_IO, bt_dr_check_certificate_bundle_file(fixture("missing.p12"), "fixture-pass", NULL, &r));

  /* Pair check: the same leaf in both encodings is identical, another leaf is not. */
  bt_dr_bundle_report *legacy = NULL;
  OK(bt_dr_check_certificate_bundle_file(fixture("legacy_chain.p12"), "fixture-pass", opts, &legacy));
  bool identical = false;
  OK(bt_dr_check_certificate_pair(good, legacy, &identical, &json));
  CHECK(identical);
  FREE(json);
  OK(bt_dr_check_certificate_pair(good, expired, &identical, &json));
  CHECK(!identical);
  CONTAINS(json, "\"identical\":false");
  FREE(json);

  bt_dr_bundle_report_free(legacy);
  bt_dr_bundle_report_free(expired);
  bt_dr_bundle_report_free(good);
}

static void test_records(void) {
  const char *record =
      "[identity]\nhostname = \"bt-a.example.com\"\nappliance_version = \"24.1.2\"\nserial = \"B300-0042\"\n"
      "base_version = \"7.2.1\"\nsystem_time = \"2026-11-20T02:00:00Z\"\n"
      "[[ip_configuration]]\nname = \"eth0\"\naddresses = [\"10.0.0.5/24\"]\ngateway = \"10.0.0.1\"\n";
  char *json = NULL;
  OK(bt_dr_appliance_record_parse(record, "toml", tmpdir, &json));
  CONTAINS(json, "\"file_name\":\"appliance-bt-a.example.com-v24.1.2-sn-B300-0042-base-7.2.1-20261120T020000Z.json\"");
  CONTAINS(json, "\"saved_path\":\"");
  FREE(json);

  /* The saved record loads back. */
  char path[2048];
  snprintf(path, sizeof path, "%s/appliance-bt-a.example.com-v24.1.2-sn-B300-0042-base-7.2.1-20261120T020000Z.json", tmpdir);
  json = NULL;
  OK(bt_dr_appliance_record(path, NULL, &json));
  CHECK(strstr(json, "\"saved_path\"") == NULL);
  CONTAINS(json, "\"serial\":\"B300-0042\"");
  /* The core's view, as Python and Node return it: fields and file_name side by side. */
  CHECK(strstr(json, "\"record\"") == NULL);
  CONTAINS(json, "\"identity\":{");
  FREE(json);

  const char *bad = "[identity]\nhostname = \"\"\nappliance_version = \"24.1.2\"\nserial = \"x\"\n"
                    "base_version = \"7\"\nsystem_time = \"2026-11-20T02:00:00Z\"\n";
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_appliance_record_parse(bad, "toml", NULL, &json));
  char *details = tu_last_details();
  CONTAINS(details, "\"field\":\"identity.hostname\"");
  FREE(details);

  /* Vault key record: hashes the file, flags an unprotected key. */
  snprintf(path, sizeof path, "%s/vault.key", tmpdir);
  FILE *f = fopen(path, "wb");
  fputs("opaque key bytes", f);
  fclose(f);
  OK(bt_dr_vault_key_record(path, "support", "2026-11-20", false, &json));
  /* The core's flat view: the record's fields and its findings side by side, no nesting. */
  CHECK(strstr(json, "\"record\"") == NULL);
  CONTAINS(json, "\"site\":\"support\"");
  CONTAINS(json, "\"date\":\"2026-11-20\"");
  CONTAINS(json, "\"size\":16");
  CONTAINS(json, "\"vault_key_unprotected\"");
  FREE(json);
  OK(bt_dr_vault_key_record(path, "support", "2026-11-20", true, &json));
  CONTAINS(json, "\"findings\":[]");
  FREE(json);
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_vault_key_record(path, "support", "yesterday", true, &json));
}

int main(void) {
  snprintf(fixtures, sizeof fixtures, "%s", tu_env("BT_DR_FIXTURES"));
  snprintf(tmpdir, sizeof tmpdir, "%s", tu_env("BT_DR_TMP"));
  test_status_plumbing();
  test_versions_and_names();
  test_restore_and_coverage();
  test_inventory();
  test_certificates();
  test_records();
  return tu_done("test_foundation");
}
