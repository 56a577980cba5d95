/* The DR operations of the C API against the simulator (started by with-sim.sh): backup sets
 * (with the pair's other appliance and the reporting archive) and jobs, verify, retention,
 * restore checks, live state and audit, runbook, failover plan and execution (with a redirect
 * command). Needs BT_DR_FIXTURES (the p12 fixture folder) and BT_DR_TMP (a scratch folder). */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <sys/stat.h>

#include "sim_control.h"
#include "test_util.h"

static const char *primary_url, *backup_url, *ca_path, *client_id, *client_secret, *fixtures, *control_url,
    *site_url;
static char tmpdir[1024], store[1200];

static bt_dr_client *make_client(const char *url, const char *secret) {
  bt_dr_client_builder *b = NULL;
  bt_dr_client *c = NULL;
  OK(bt_dr_client_builder_new(url, &b));
  OK(bt_dr_client_builder_set_credentials(b, client_id, secret));
  OK(bt_dr_client_builder_set_extra_ca_file(b, ca_path));
  OK(bt_dr_client_builder_set_retry_policy(b, 2, 10, 50, 2000, 1, 1000));
  OK(bt_dr_client_builder_set_site_name(b, "support"));
  OK(bt_dr_client_builder_build(b, &c));
  bt_dr_client_builder_free(b);
  return c;
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    perror(path);
    exit(2);
  }
  fputs(text, f);
  fclose(f);
}

static int count_of(const char *haystack, const char *needle) {
  int n = 0;
  for (const char *p = haystack; p && (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
  return n;
}

/* The string value of the first "key" in a JSON text. */
static void json_string(const char *json, const char *key, char *out, size_t len) {
  char pat[128];
  snprintf(pat, sizeof pat, "\"%s\":\"", key);
  out[0] = 0;
  const char *p = json ? strstr(json, pat) : NULL;
  if (p == NULL) return;
  p += strlen(pat);
  size_t i = 0;
  while (p[i] && p[i] != '"' && i + 1 < len) {
    out[i] = p[i];
    i++;
  }
  out[i] = 0;
}

/* The "path" of the manifest file entry of `kind`: bt-dr writes JSON keys in alphabetical
 * order, so an entry reads {"kind":"<kind>","path":"...","sha256":...,"size":...}. */
static void path_of_kind(const char *json, const char *kind, char *out, size_t len) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"kind\":\"%s\",", kind);
  out[0] = 0;
  const char *p = json ? strstr(json, pat) : NULL;
  if (p == NULL) return;
  json_string(p, "path", out, len);
}

/* The "sha256" of the first manifest "reporting" entry of `kind`, and its "lsid" and "path":
 * an entry reads {"kind":"<kind>","lsid":"...","path":"...","sha256":"...","size":N}. */
static int reporting_entry(const char *json, const char *kind, char *lsid, char *path, char *sha, size_t len) {
  const char *r = json ? strstr(json, "\"reporting\":[") : NULL;
  char pat[96];
  snprintf(pat, sizeof pat, "{\"kind\":\"%s\",\"lsid\":", kind);
  const char *p = r ? strstr(r, pat) : NULL;
  if (p == NULL) return 0;
  json_string(p, "lsid", lsid, len);
  json_string(p, "path", path, len);
  json_string(p, "sha256", sha, len);
  return 1;
}

static int progress_calls = 0;
static void on_progress(void *userdata, uint64_t done, int64_t total) {
  (void)done;
  (void)total;
  (*(int *)userdata)++;
}

static const char *INVENTORY =
    "[[sites]]\nname = \"support\"\nfqdn = \"support.example.com\"\nproduct = \"rs\"\nversion = \"24.1.2\"\n"
    "[[sites.appliances]]\nhostname = \"bt-a.example.com\"\nkind = \"b300\"\nserial = \"B300-0001\"\nip = \"10.0.0.11\"\n"
    "[[sites.appliances]]\nhostname = \"bt-b.example.com\"\nkind = \"vmware\"\nip = \"10.0.0.12\"\n"
    "[sites.failover]\nprimary = \"bt-a.example.com\"\nbackup = \"bt-b.example.com\"\nrouting = \"dns-swing\"\n";

static void test_backup_sets(bt_dr_inventory *inv, bt_dr_client *primary, bt_dr_client *backup) {
  char rec_a[1400], rec_b[1400], key[1400], options[6000], text[1024];
  snprintf(rec_a, sizeof rec_a, "%s/bt-a.toml", tmpdir);
  snprintf(rec_b, sizeof rec_b, "%s/bt-b.toml", tmpdir);
  snprintf(key, sizeof key, "%s/vault.key", tmpdir);
  const char *tmpl =
      "[identity]\nhostname = \"%s\"\nappliance_version = \"24.1.2\"\nserial = \"SN-%s\"\nbase_version = \"7.2.1\"\n"
      "system_time = \"2026-11-20T02:00:00Z\"\n[[ip_configuration]]\nname = \"eth0\"\naddresses = [\"%s/24\"]\n"
      "gateway = \"10.0.0.1\"\n";
  snprintf(text, sizeof text, tmpl, "bt-a.example.com", "a", "10.0.0.11");
  write_file(rec_a, text);
  snprintf(text, sizeof text, tmpl, "bt-b.example.com", "b", "10.0.0.12");
  write_file(rec_b, text);
  write_file(key, "password-protected vault key (simulated)");
  snprintf(options, sizeof options,
           "{\"certificate_bundle\":\"%s/default_chain.p12\",\"appliance_records\":[\"%s\",\"%s\"],"
           "\"vault_key\":{\"path\":\"%s\",\"password_protected\":true},\"first_run_recordings_days\":3}",
           fixtures, rec_a, rec_b, key);

  char *json = NULL;
  /* The pair: the NSB of the primary through `primary`, and of the backup appliance too. */
  const bt_dr_client *others[1] = {backup};
  OK(bt_dr_run_backup_set(store, inv, "support", primary, others, 1, options, NULL, "fixture-pass", on_progress,
                          &progress_calls, NULL, &json));
  CHECK(progress_calls > 0);
  CONTAINS(json, "\"site\":\"support\"");
  CONTAINS(json, "\"format\":3");
  CONTAINS(json, "\"kind\":\"nsb\"");
  CONTAINS(json, "\"kind\":\"certificate_bundle\"");
  CONTAINS(json, "\"kind\":\"appliance_record\"");
  CONTAINS(json, "\"date\":\"20"); /* the Vault key record's date, as YYYY-MM-DD */
  CHECK(!tu_contains(json, "fixture-pass"));
  /* Two appliance NSBs, which is which. */
  CHECK(count_of(json, "\"main\":") == 2);
  CONTAINS(json, "\"main\":true");
  CONTAINS(json, "\"role\":\"backup\"");
  CONTAINS(json, "\"role\":\"primary\"");
  CONTAINS(json, "\"part\":\"appliance_nsbs\",\"status\":\"ok\"");
  CONTAINS(json, "\"partial\":false");
  /* Recordings are no longer files of the set: the manifest refers to the site's reporting
   * archive, per kind. */
  CHECK(!tu_contains(json, "\"kind\":\"recording\""));
  CONTAINS(json, "\"kinds\":[{");
  CONTAINS(json, "\"kind\":\"session_recording\",\"since\"");
  char rec_lsid[256], rec_path[512], rec_sha[256];
  CHECK(reporting_entry(json, "session_recording", rec_lsid, rec_path, rec_sha, sizeof rec_lsid));
  CHECK(strncmp(rec_path, "reporting/session_recording/", 28) == 0);
  CHECK(reporting_entry(json, "session_report", text, text, text, sizeof text));
  char first_set[1400], set_id[128], nsb_rel[512];
  json_string(json, "set_id", set_id, sizeof set_id);
  snprintf(first_set, sizeof first_set, "%s/support/sets/%s", store, set_id);
  path_of_kind(json, "nsb", nsb_rel, sizeof nsb_rel);
  CHECK(nsb_rel[0] != 0);
  struct stat st;
  CHECK(stat(first_set, &st) == 0 && S_ISDIR(st.st_mode));
  FREE(json);

  /* The archived recording is the one download_report saves, byte for byte. */
  char archived[2048], window[512], report_sha[256];
  snprintf(archived, sizeof archived, "%s/support/%s", store, rec_path);
  CHECK(stat(archived, &st) == 0 && S_ISREG(st.st_mode));
  snprintf(window, sizeof window, "{\"type\":\"lsid\",\"lsid\":\"%s\"}", rec_lsid);
  char reports[1400];
  snprintf(reports, sizeof reports, "%s/reports", tmpdir);
  mkdir(reports, 0700);
  OK(bt_dr_download_report(primary, "session_recording", window, reports, NULL, NULL, NULL, &json));
  json_string(json, "sha256", report_sha, sizeof report_sha);
  CHECK(strlen(rec_sha) == 64 && strcmp(report_sha, rec_sha) == 0);
  FREE(json);

  bool ok = false;
  OK(bt_dr_verify_backup_set(first_set, &ok, &json));
  CHECK(ok);
  CONTAINS(json, "\"problems\":[]");
  FREE(json);

  /* A second set with new sessions, taking only session reports (the other kinds are not
   * asked for), then the list. */
  CHECK(sim_control(control_url, "/appliances/0/add_sessions", "{\"count\":2}") == 200);
  OK(bt_dr_run_backup_set(store, inv, "support", primary, NULL, 0, "{\"reporting_kinds\":[\"session_report\"]}", NULL,
                          NULL, NULL, NULL, NULL, &json));
  CHECK(reporting_entry(json, "session_report", text, text, text, sizeof text));
  CHECK(!reporting_entry(json, "session_recording", text, text, text, sizeof text));
  CHECK(!tu_contains(json, "\"appliance_nsbs\":["));
  FREE(json);
  OK(bt_dr_list_backup_sets(store, "support", &json));
  CHECK(count_of(json, "\"completed_at\":\"") == 2);
  FREE(json);

  /* Mistakes: options are the core's (unknown key or kind: invalid input, malformed JSON: parse),
   * and secrets never travel in JSON. */
  FAILS(BT_DR_STATUS_NOT_FOUND,
        bt_dr_run_backup_set(store, inv, "nowhere", primary, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, &json));
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_run_backup_set(store, inv, "support", primary, NULL, 0, "{\"recordingz\":true}",
                                                          NULL, NULL, NULL, NULL, NULL, &json));
  CONTAINS(tu_last_message(), "recordingz");
  FAILS(BT_DR_STATUS_INVALID_INPUT,
        bt_dr_run_backup_set(store, inv, "support", primary, NULL, 0, "{\"reporting_kinds\":[\"exit_survey\"]}", NULL,
                             NULL, NULL, NULL, NULL, &json));
  FAILS(BT_DR_STATUS_PARSE, bt_dr_run_backup_set(store, inv, "support", primary, NULL, 0, "{\"recordings\":", NULL, NULL,
                                                  NULL, NULL, NULL, &json));
  FAILS(BT_DR_STATUS_INVALID_INPUT,
        bt_dr_run_backup_set(store, inv, "support", primary, NULL, 0, "{\"backup_password\":\"json-s3cret-pw\"}", NULL,
                             NULL, NULL, NULL, NULL, &json));
  NO_SECRET("json-s3cret-pw");
  FAILS(BT_DR_STATUS_NULL_ARGUMENT, bt_dr_run_backup_set(store, inv, "support", primary, NULL, 1, NULL, NULL, NULL, NULL,
                                                          NULL, NULL, &json));
  const bt_dr_client *no_client[1] = {NULL};
  FAILS(BT_DR_STATUS_NULL_ARGUMENT, bt_dr_run_backup_set(store, inv, "support", primary, no_client, 1, NULL, NULL, NULL,
                                                          NULL, NULL, NULL, &json));
  bt_dr_cancel_token *t = NULL;
  OK(bt_dr_cancel_token_new(&t));
  OK(bt_dr_cancel_token_cancel(t));
  FAILS(BT_DR_STATUS_CANCELLED,
        bt_dr_run_backup_set(store, inv, "support", primary, NULL, 0, NULL, NULL, NULL, NULL, NULL, t, &json));
  bt_dr_cancel_token_free(t);

  /* Tampering shows in verify. */
  char victim[2048];
  snprintf(victim, sizeof victim, "%s/%s", first_set, nsb_rel);
  FILE *f = fopen(victim, "r+b");
  CHECK(f != NULL);
  if (f) {
    fseek(f, 100, SEEK_SET);
    fputc('X', f);
    fclose(f);
  }
  OK(bt_dr_verify_backup_set(first_set, &ok, &json));
  CHECK(!ok);
  CONTAINS(json, "\"problem\":\"hash_mismatch\"");
  FREE(json);
  char missing[2048];
  snprintf(missing, sizeof missing, "%s/no-such-set", store);
  FAILS(BT_DR_STATUS_NOT_FOUND, bt_dr_verify_backup_set(missing, &ok, &json));
}

static void test_job(bt_dr_inventory *inv, bt_dr_client *primary) {
  bt_dr_client *bad = make_client(primary_url, "not-the-secret");
  bt_dr_backup_job *job = NULL;
  OK(bt_dr_backup_job_new(&job));
  OK(bt_dr_backup_job_add(job, inv, "support", primary, NULL, 0, "{\"recordings\":false}", NULL, NULL));
  OK(bt_dr_backup_job_add(job, inv, "support", bad, NULL, 0, "{\"recordings\":false}", NULL, NULL));
  FAILS(BT_DR_STATUS_NOT_FOUND, bt_dr_backup_job_add(job, inv, "elsewhere", primary, NULL, 0, NULL, NULL, NULL));
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_backup_job_add(job, inv, "support", primary, NULL, 0, "{\"vault\":1}", NULL, NULL));
  size_t failed = 99;
  char *json = NULL;
  OK(bt_dr_run_backup_job(store, job, 1, NULL, &failed, &json));
  CHECK(failed == 1);
  CONTAINS(json, "\"kind\":\"auth\"");
  CONTAINS(json, "\"code\":\"BT_DR_AUTH\"");
  CHECK(!tu_contains(json, "not-the-secret"));
  CHECK(count_of(json, "\"site\":\"support\"") >= 2);
  FREE(json);
  bt_dr_backup_job_free(job);
  bt_dr_client_free(bad);

  /* An empty job is an empty report. */
  OK(bt_dr_backup_job_new(&job));
  OK(bt_dr_run_backup_job(store, job, 4, NULL, &failed, &json));
  CHECK(failed == 0);
  CHECK(json && strcmp(json, "{\"sites\":[]}") == 0);
  FREE(json);
  bt_dr_backup_job_free(job);

  /* 0 is "not given": the library's default concurrency, which C asks for, never copies. */
  size_t dflt = 0;
  OK(bt_dr_default_job_concurrency(&dflt));
  CHECK(dflt >= 1);
  FAILS(BT_DR_STATUS_NULL_ARGUMENT, bt_dr_default_job_concurrency(NULL));
  OK(bt_dr_backup_job_new(&job));
  OK(bt_dr_backup_job_add(job, inv, "support", primary, NULL, 0, "{\"recordings\":false}", NULL, NULL));
  char other[1300]; /* its own store: the retention test counts the sets of `store` */
  snprintf(other, sizeof other, "%s/store-default-concurrency", tmpdir);
  OK(bt_dr_run_backup_job(other, job, 0, NULL, &failed, &json));
  CHECK(failed == 0);
  CONTAINS(json, "\"error\":null");
  FREE(json);
  bt_dr_backup_job_free(job);
}

static void test_retention(void) {
  bt_dr_retention_plan *plan = NULL;
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_plan_retention(store, "support", "{}", &plan));
  FAILS(BT_DR_STATUS_PARSE, bt_dr_plan_retention(store, "support", "{\"keep_forever\":1}", &plan));
  CHECK(plan == NULL);
  OK(bt_dr_plan_retention(store, "support", "{\"keep_last\":1}", &plan));
  size_t remove = 0;
  OK(bt_dr_retention_plan_remove_count(plan, &remove));
  CHECK(remove == 2); /* 3 sets: the first (tampered), the second, the job's */
  char *json = NULL;
  OK(bt_dr_retention_plan_to_json(plan, &json));
  CONTAINS(json, "\"reasons\":[\"last 1\"");
  bt_dr_retention_plan *again = NULL;
  OK(bt_dr_retention_plan_from_json(json, &again));
  FREE(json);
  char *removed = NULL;
  OK(bt_dr_apply_retention(store, again, &removed));
  CHECK(removed && removed[0] == '[' && count_of(removed, "\"") == 4);
  FREE(removed);
  bt_dr_retention_plan_free(again);
  bt_dr_retention_plan_free(plan);
  OK(bt_dr_list_backup_sets(store, "support", &json));
  CHECK(count_of(json, "\"completed_at\":\"") == 1);
  FREE(json);

  /* Planning over given sets, no store. */
  plan = NULL;
  OK(bt_dr_plan_retention_for_sets(
      "support",
      "[{\"id\":\"a\",\"created_at\":\"2026-11-20T02:00:00Z\",\"verified\":true},"
      "{\"id\":\"b\",\"created_at\":\"2026-11-19T02:00:00Z\",\"verified\":null},"
      "{\"id\":\"c\",\"created_at\":\"2026-11-19T01:00:00Z\",\"verified\":null}]",
      "{\"keep_daily\":7}", &plan));
  OK(bt_dr_retention_plan_to_json(plan, &json));
  CONTAINS(json, "\"remove\":[\"c\"]");
  FREE(json);
  bt_dr_retention_plan_free(plan);

  /* Version-aware: the newest verified set of each of the last two versions stays (the core's
   * default), whatever the other rules say; keep_versions 0 switches that off. */
  const char *versioned =
      "[{\"id\":\"new\",\"created_at\":\"2026-11-20T02:00:00Z\",\"verified\":true,\"version\":\"24.1.2\"},"
      "{\"id\":\"old\",\"created_at\":\"2026-11-01T02:00:00Z\",\"verified\":true,\"version\":\"23.3.1\"}]";
  plan = NULL;
  OK(bt_dr_plan_retention_for_sets("support", versioned, "{\"keep_last\":1}", &plan));
  OK(bt_dr_retention_plan_to_json(plan, &json));
  CONTAINS(json, "\"version 23.3.1\"");
  CONTAINS(json, "\"remove\":[]");
  FREE(json);
  bt_dr_retention_plan_free(plan);
  plan = NULL;
  OK(bt_dr_plan_retention_for_sets("support", versioned, "{\"keep_last\":1,\"keep_versions\":0}", &plan));
  OK(bt_dr_retention_plan_to_json(plan, &json));
  CONTAINS(json, "\"remove\":[\"old\"]");
  FREE(json);
  bt_dr_retention_plan_free(plan);
}

static void test_audit_and_runbook(bt_dr_inventory *inv, bt_dr_client *primary, bt_dr_client *backup) {
  bt_dr_live_state *live = NULL;
  OK(bt_dr_live_state_new(&live));
  const char *hosts[2] = {"bt-a.example.com", "bt-b.example.com"};
  const bt_dr_client *clients[2] = {primary, backup};
  OK(bt_dr_live_state_collect(live, "support", hosts, clients, 2));
  FAILS(BT_DR_STATUS_NULL_ARGUMENT, bt_dr_live_state_collect(live, "support", NULL, clients, 2));
  char *json = NULL;
  OK(bt_dr_live_state_to_json(live, &json));
  CONTAINS(json, "\"hostname\":\"bt-b.example.com\"");
  CONTAINS(json, "\"failover_role\":\"backup\"");
  FREE(json);

  bt_dr_audit_report *report = NULL;
  OK(bt_dr_audit(inv, store, live, NULL, "{\"max_backup_age_hours\":48}", &report));
  size_t findings = 0, crit = 9, err = 9, warn = 9, info = 9;
  OK(bt_dr_audit_report_finding_count(report, &findings));
  OK(bt_dr_audit_report_summary(report, &crit, &err, &warn, &info));
  CHECK(crit + err + warn + info == findings);
  bt_dr_severity worst = BT_DR_SEVERITY_NONE;
  OK(bt_dr_audit_report_worst_severity(report, &worst));
  CHECK(findings == 0 ? worst == BT_DR_SEVERITY_NONE : worst != BT_DR_SEVERITY_NONE);
  OK(bt_dr_audit_report_to_json(report, &json));
  CONTAINS(json, "\"schema\":\"bt-dr.audit/1\"");
  CONTAINS(json, "\"sites\":[\"support\"]");
  FREE(json);
  char *md = NULL;
  OK(bt_dr_audit_report_to_markdown(report, &md));
  CONTAINS(md, "# bt-dr readiness audit");
  FREE(md);
  bt_dr_audit_report_free(report);

  /* Without a store the backup rules are skipped; an empty store fires no_backup. */
  report = NULL;
  OK(bt_dr_audit(inv, NULL, NULL, NULL, NULL, &report));
  bt_dr_audit_report_free(report);
  char empty[1400];
  snprintf(empty, sizeof empty, "%s/empty-store", tmpdir);
  OK(bt_dr_audit(inv, empty, NULL, NULL, NULL, &report));
  OK(bt_dr_audit_report_worst_severity(report, &worst));
  CHECK(worst == BT_DR_SEVERITY_CRITICAL);
  OK(bt_dr_audit_report_to_json(report, &json));
  CONTAINS(json, "\"id\":\"no_backup\"");
  FREE(json);
  bt_dr_audit_report_free(report);
  /* Options are parsed by the core's AuditOptions::from_json, as in every binding: a wrong type
   * or an unknown key is invalid input, only malformed JSON is a parse error. */
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_audit(inv, NULL, NULL, NULL, "{\"max_backup_age_hours\":\"x\"}", &report));
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_audit(inv, NULL, NULL, NULL, "{\"max_backup_age\":48}", &report));
  FAILS(BT_DR_STATUS_PARSE, bt_dr_audit(inv, NULL, NULL, NULL, "{\"max_backup_age_hours\":", &report));
  /* A null limit is the inventory's threshold. */
  OK(bt_dr_audit(inv, store, live, NULL, "{\"max_backup_age_hours\":null,\"certificate_horizon_days\":null}", &report));
  bt_dr_audit_report_free(report);
  bt_dr_live_state_free(live);

  md = NULL;
  OK(bt_dr_render_runbook(inv, "support", store, NULL, &md));
  CONTAINS(md, "support.example.com");
  CONTAINS(md, "bt-b.example.com");
  FREE(md);
  FAILS(BT_DR_STATUS_NOT_FOUND, bt_dr_render_runbook(inv, "nowhere", NULL, NULL, &md));
}

/* Restoring onto a site: onto the pair, the guide's order around the restore; onto a single
 * appliance, nothing special; a refused restore gets no steps. */
static void test_restore_onto(bt_dr_inventory *inv) {
  bt_dr_restore_compatibility comp = BT_DR_RESTORE_COMPATIBILITY_REFUSED;
  char *json = NULL;
  OK(bt_dr_check_restore_onto(inv, "support", "24.1.2", "rs", NULL, &comp, &json));
  CHECK(comp == BT_DR_RESTORE_COMPATIBILITY_SUPPORTED);
  CONTAINS(json, "\"steps\":[\"Break failover between bt-a.example.com and bt-b.example.com");
  CONTAINS(json, "pre-shared key");
  CONTAINS(json, "Re-establish failover");
  CONTAINS(json, "are a failover pair");
  FREE(json);
  bt_dr_upgrade_table *table = NULL;
  OK(bt_dr_parse_upgrade_table("[[releases]]\nversion = \"24.1\"\nsupported_upgrades_from = [\"23.3\"]\n", "toml",
                               &table));
  OK(bt_dr_check_restore_onto(inv, "support", "23.3.1", NULL, table, &comp, &json));
  CHECK(comp == BT_DR_RESTORE_COMPATIBILITY_SUPPORTED);
  CONTAINS(json, "Break failover");
  FREE(json);
  bt_dr_upgrade_table_free(table);
  OK(bt_dr_check_restore_onto(inv, "support", "25.1.0", NULL, NULL, &comp, &json));
  CHECK(comp == BT_DR_RESTORE_COMPATIBILITY_REFUSED);
  CONTAINS(json, "\"steps\":[]");
  FREE(json);
  OK(bt_dr_check_restore_onto(inv, "support", "24.1.2", "pra", NULL, &comp, &json));
  CHECK(comp == BT_DR_RESTORE_COMPATIBILITY_REFUSED);
  FREE(json);

  bt_dr_inventory *single = NULL;
  OK(bt_dr_parse_inventory("[[sites]]\nname = \"lab\"\nfqdn = \"lab.example.com\"\nproduct = \"rs\"\n"
                           "version = \"24.1.2\"\n[[sites.appliances]]\nhostname = \"bt-lab.example.com\"\nkind = \"b300\"\n",
                           "toml", &single));
  OK(bt_dr_check_restore_onto(single, "lab", "24.1.2", NULL, NULL, &comp, &json));
  CHECK(comp == BT_DR_RESTORE_COMPATIBILITY_SUPPORTED);
  CONTAINS(json, "\"steps\":[]");
  CONTAINS(json, "\"warning\":null");
  FREE(json);
  bt_dr_inventory_free(single);

  FAILS(BT_DR_STATUS_NOT_FOUND, bt_dr_check_restore_onto(inv, "nowhere", "24.1.2", NULL, NULL, &comp, &json));
  FAILS(BT_DR_STATUS_PARSE, bt_dr_check_restore_onto(inv, "support", "24.x", NULL, NULL, &comp, &json));
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_check_restore_onto(inv, "support", "24.1.2", "rx", NULL, &comp, &json));
  FAILS(BT_DR_STATUS_NULL_ARGUMENT, bt_dr_check_restore_onto(NULL, "support", "24.1.2", NULL, NULL, &comp, &json));
}

/* Position of `needle` in `haystack` (-1 when absent). */
static long pos_of(const char *haystack, const char *needle) {
  const char *p = haystack ? strstr(haystack, needle) : NULL;
  return p ? (long)(p - haystack) : -1;
}

static void test_failover(bt_dr_inventory *inv, bt_dr_client *primary, bt_dr_client *backup) {
  bt_dr_failover_plan *plan = NULL;
  FAILS(BT_DR_STATUS_REFUSED, bt_dr_plan_failover(inv, "support", "bt-a.example.com", primary, "bt-b.example.com",
                                                   backup, "unplanned", &plan));
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_plan_failover(inv, "support", "bt-a.example.com", primary,
                                                         "bt-b.example.com", backup, "sideways", &plan));
  CHECK(plan == NULL);
  /* Either order: the plan finds the primary from the live roles. */
  OK(bt_dr_plan_failover(inv, "support", "bt-b.example.com", backup, "bt-a.example.com", primary, "planned", &plan));
  char *target = NULL;
  OK(bt_dr_failover_plan_target(plan, &target));
  CHECK(target && strcmp(target, "bt-b.example.com") == 0);
  FREE(target);
  char *json = NULL;
  OK(bt_dr_failover_plan_to_json(plan, &json));
  CONTAINS(json, "\"mode\":\"planned\"");
  /* Identical certificates on both appliances; steps in the guide's order (a DNS swing without
   * a hook is a person's step). */
  CONTAINS(json, "\"certificates\":\"identical\"");
  CONTAINS(json, "\"served_leaf_sha256\":\"");
  CHECK(pos_of(json, "\"step\":\"redirect\"") >= 0 &&
        pos_of(json, "\"step\":\"redirect\"") < pos_of(json, "\"step\":\"role_change\"") &&
        pos_of(json, "\"step\":\"role_change\"") < pos_of(json, "\"step\":\"confirm\""));
  CONTAINS(json, "\"automated\":false");
  bt_dr_failover_plan *again = NULL;
  OK(bt_dr_failover_plan_from_json(json, &again));
  FREE(json);

  bt_dr_failover_outcome outcome = BT_DR_FAILOVER_OUTCOME_TIMED_OUT;
  OK(bt_dr_execute_failover(inv, "support", "bt-a.example.com", primary, "bt-b.example.com", backup, again, 30000, 100,
                            &outcome, &json));
  CHECK(outcome == BT_DR_FAILOVER_OUTCOME_SETTLED);
  CONTAINS(json, "\"outcome\":\"settled\"");
  CONTAINS(json, "\"method\":\"manual\"");
  CONTAINS(json, "\"confirmation\":{");
  CHECK(pos_of(json, "\"step\":\"redirect\"") >= 0 &&
        pos_of(json, "\"step\":\"redirect\"") < pos_of(json, "\"step\":\"role_change\""));
  FREE(json);
  bt_dr_health *h = NULL;
  bt_dr_failover_role role = BT_DR_FAILOVER_ROLE_NONE;
  OK(bt_dr_check_health(backup, &h));
  OK(bt_dr_health_failover_role(h, &role));
  CHECK(role == BT_DR_FAILOVER_ROLE_PRIMARY);
  bt_dr_health_free(h);

  /* The old plan points the wrong way now: executing it again is refused. */
  FAILS(BT_DR_STATUS_REFUSED, bt_dr_execute_failover(inv, "support", "bt-a.example.com", primary, "bt-b.example.com",
                                                      backup, plan, 30000, 100, &outcome, &json));
  bt_dr_failover_plan_free(again);
  bt_dr_failover_plan_free(plan);
}

/* Runs after test_failover: bt-b is primary, bt-a backup. bt-b rejects our credentials (a
 * client with a wrong secret), so its state is unknown, not unreachable: an unplanned failover
 * needs "force_unknown", at planning and again at execution (which plans afresh), and bt-dr
 * demotes nothing by itself (the timeline has no "demoted" event; the simulated pair moves a
 * connected old primary to backup on its own). */
static void test_failover_state_unknown(bt_dr_inventory *inv, bt_dr_client *a) {
  bt_dr_client *b = make_client(backup_url, "not-the-secret");
  bt_dr_failover_plan *plan = NULL;
  FAILS(BT_DR_STATUS_REFUSED, bt_dr_plan_failover(inv, "support", "bt-a.example.com", a, "bt-b.example.com", b,
                                                   "unplanned", &plan));
  CONTAINS(tu_last_message(), "state unknown");
  FAILS(BT_DR_STATUS_REFUSED, bt_dr_plan_failover_with(inv, "support", "bt-a.example.com", a, "bt-b.example.com", b,
                                                        "unplanned", NULL, &plan));
  FAILS(BT_DR_STATUS_REFUSED, bt_dr_plan_failover_with(inv, "support", "bt-a.example.com", a, "bt-b.example.com", b,
                                                        "unplanned", "{\"force_unknown\":false}", &plan));
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_plan_failover_with(inv, "support", "bt-a.example.com", a, "bt-b.example.com", b,
                                                              "unplanned", "{\"force\":true}", &plan));
  CONTAINS(tu_last_message(), "force");
  FAILS(BT_DR_STATUS_PARSE, bt_dr_plan_failover_with(inv, "support", "bt-a.example.com", a, "bt-b.example.com", b,
                                                      "unplanned", "{\"force_unknown\":", &plan));
  CHECK(plan == NULL);
  OK(bt_dr_plan_failover_with(inv, "support", "bt-a.example.com", a, "bt-b.example.com", b, "unplanned",
                              "{\"force_unknown\":true}", &plan));
  char *json = NULL;
  OK(bt_dr_failover_plan_to_json(plan, &json));
  CONTAINS(json, "\"reachability\":\"unknown\"");
  CONTAINS(json, "\"reachability\":\"reachable\"");
  CONTAINS(json, "\"kind\":\"auth\"");
  CONTAINS(json, "\"code\":\"BT_DR_AUTH\"");
  CONTAINS(json, "\"probe_status\"");
  CONTAINS(json, "force_unknown");
  FREE(json);
  char *target = NULL;
  OK(bt_dr_failover_plan_target(plan, &target));
  CHECK(target && strcmp(target, "bt-a.example.com") == 0);
  FREE(target);

  bt_dr_failover_outcome outcome = BT_DR_FAILOVER_OUTCOME_SETTLED;
  FAILS(BT_DR_STATUS_REFUSED, bt_dr_execute_failover(inv, "support", "bt-a.example.com", a, "bt-b.example.com", b,
                                                      plan, 5000, 50, &outcome, &json));
  FAILS(BT_DR_STATUS_REFUSED,
        bt_dr_execute_failover_with(inv, "support", "bt-a.example.com", a, "bt-b.example.com", b, plan,
                                    "{\"settle_timeout_ms\":5000,\"poll_interval_ms\":50}", &outcome, &json));
  bt_dr_health *h = NULL;
  bt_dr_failover_role role = BT_DR_FAILOVER_ROLE_NONE;
  OK(bt_dr_check_health(a, &h));
  OK(bt_dr_health_failover_role(h, &role));
  CHECK(role == BT_DR_FAILOVER_ROLE_BACKUP);
  bt_dr_health_free(h);
  OK(bt_dr_execute_failover_with(inv, "support", "bt-a.example.com", a, "bt-b.example.com", b, plan,
                                 "{\"settle_timeout_ms\":5000,\"poll_interval_ms\":50,\"force_unknown\":true,"
                                 "\"demote_old_primary\":false}",
                                 &outcome, &json));
  CHECK(!tu_contains(json, "demoted"));
  FREE(json);
  OK(bt_dr_check_health(a, &h));
  OK(bt_dr_health_failover_role(h, &role));
  CHECK(role == BT_DR_FAILOVER_ROLE_PRIMARY);
  bt_dr_health_free(h);
  bt_dr_failover_plan_free(plan);
  bt_dr_client_free(b);
}

static bt_dr_failover_role role_of(bt_dr_client *c) {
  bt_dr_health *h = NULL;
  bt_dr_failover_role role = BT_DR_FAILOVER_ROLE_NONE;
  OK(bt_dr_check_health(c, &h));
  OK(bt_dr_health_failover_role(h, &role));
  bt_dr_health_free(h);
  return role;
}

/* Runs after test_failover_state_unknown: bt-a is primary, bt-b backup, and the simulated site
 * address (BT_DR_SIM_SITE_URL) still points at bt-a. A DNS swing with a redirect command: a
 * failing command stops the failover before any role changes; a command that swings the site
 * address (through the simulator's control API) lets it go on, checked, in the guide's order. */
static void test_failover_redirect(bt_dr_inventory *inv, bt_dr_client *a, bt_dr_client *b) {
  char opts[4096], script[1400], *json = NULL;
  const char *timing = "\"settle_timeout_ms\":15000,\"poll_interval_ms\":50,\"redirect_verify_timeout_ms\":3000,"
                       "\"confirm_timeout_ms\":5000";
  snprintf(opts, sizeof opts, "{%s,\"site_url\":\"%s\",\"redirect\":{\"command\":[\"false\"]}}", timing, site_url);
  bt_dr_failover_plan *plan = NULL;
  OK(bt_dr_plan_failover_with(inv, "support", "bt-a.example.com", a, "bt-b.example.com", b, "planned", opts, &plan));
  OK(bt_dr_failover_plan_to_json(plan, &json));
  CONTAINS(json, "redirect command `false`");
  CONTAINS(json, site_url);
  FREE(json);
  bt_dr_failover_outcome outcome = BT_DR_FAILOVER_OUTCOME_SETTLED;
  OK(bt_dr_execute_failover_with(inv, "support", "bt-a.example.com", a, "bt-b.example.com", b, plan, opts, &outcome,
                                 &json));
  CHECK(outcome == BT_DR_FAILOVER_OUTCOME_REDIRECT_FAILED);
  CONTAINS(json, "\"outcome\":\"redirect_failed\"");
  CONTAINS(json, "\"method\":\"command\"");
  CHECK(!tu_contains(json, "\"step\":\"role_change\""));
  CHECK(tu_contains(json, "\"confirmation\":null"));
  FREE(json);
  CHECK(role_of(a) == BT_DR_FAILOVER_ROLE_PRIMARY && role_of(b) == BT_DR_FAILOVER_ROLE_BACKUP);
  bt_dr_failover_plan_free(plan);

  /* The swing: POST /appliances/1/take_site_address to the control API, in bash. */
  const char *port = strrchr(control_url, ':');
  snprintf(script, sizeof script, "%s/swing.sh", tmpdir);
  char body[1024];
  snprintf(body, sizeof body,
           "test \"$BT_DR_TO\" = bt-b.example.com && test \"$BT_DR_ROUTING\" = dns-swing || exit 3\n"
           "exec 3<>/dev/tcp/127.0.0.1/%s\n"
           "printf 'POST /appliances/1/take_site_address HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 0\\r\\n"
           "Connection: close\\r\\n\\r\\n' >&3\n"
           "cat <&3 >/dev/null\n",
           port ? port + 1 : "0");
  write_file(script, body);
  snprintf(opts, sizeof opts, "{%s,\"site_url\":\"%s\",\"redirect\":{\"command\":[\"bash\",\"%s\"],\"timeout_ms\":10000}}",
           timing, site_url, script);
  plan = NULL;
  OK(bt_dr_plan_failover_with(inv, "support", "bt-a.example.com", a, "bt-b.example.com", b, "planned", opts, &plan));
  OK(bt_dr_execute_failover_with(inv, "support", "bt-a.example.com", a, "bt-b.example.com", b, plan, opts, &outcome,
                                 &json));
  CHECK(outcome == BT_DR_FAILOVER_OUTCOME_SETTLED);
  CONTAINS(json, "\"method\":\"command\"");
  CONTAINS(json, "\"ran\":true");
  CONTAINS(json, "\"verified\":true");
  CONTAINS(json, "\"answered_by\":\"bt-b.example.com\"");
  CONTAINS(json, "\"confirmed\":true");
  CHECK(pos_of(json, "\"step\":\"redirect\"") >= 0 &&
        pos_of(json, "\"step\":\"redirect\"") < pos_of(json, "\"step\":\"verify_redirect\"") &&
        pos_of(json, "\"step\":\"verify_redirect\"") < pos_of(json, "\"step\":\"role_change\"") &&
        pos_of(json, "\"step\":\"role_change\"") < pos_of(json, "\"step\":\"confirm\""));
  FREE(json);
  CHECK(role_of(b) == BT_DR_FAILOVER_ROLE_PRIMARY);

  /* Options are the core's: an unknown one is refused with its kind, before anything runs. */
  FAILS(BT_DR_STATUS_INVALID_INPUT,
        bt_dr_execute_failover_with(inv, "support", "bt-a.example.com", a, "bt-b.example.com", b, plan,
                                    "{\"redirect\":{\"cmd\":[\"true\"]}}", &outcome, &json));
  CHECK(role_of(b) == BT_DR_FAILOVER_ROLE_PRIMARY);
  bt_dr_failover_plan_free(plan);
}

int main(void) {
  primary_url = tu_env("BT_DR_SIM_PRIMARY_URL");
  backup_url = tu_env("BT_DR_SIM_BACKUP_URL");
  ca_path = tu_env("BT_DR_SIM_CA_PEM_PATH");
  client_id = tu_env("BT_DR_SIM_CLIENT_ID");
  client_secret = tu_env("BT_DR_SIM_CLIENT_SECRET");
  fixtures = tu_env("BT_DR_FIXTURES");
  control_url = tu_env("BT_DR_SIM_CONTROL_URL");
  site_url = tu_env("BT_DR_SIM_SITE_URL");
  snprintf(tmpdir, sizeof tmpdir, "%s", tu_env("BT_DR_TMP"));
  snprintf(store, sizeof store, "%s/store", tmpdir);

  bt_dr_inventory *inv = NULL;
  OK(bt_dr_parse_inventory(INVENTORY, "toml", &inv));
  bt_dr_client *primary = make_client(primary_url, client_secret);
  bt_dr_client *backup = make_client(backup_url, client_secret);
  test_backup_sets(inv, primary, backup);
  test_job(inv, primary);
  test_retention();
  test_audit_and_runbook(inv, primary, backup);
  test_failover(inv, primary, backup);
  test_restore_onto(inv);
  test_failover_state_unknown(inv, primary);
  test_failover_redirect(inv, primary, backup);
  bt_dr_client_free(backup);
  bt_dr_client_free(primary);
  bt_dr_inventory_free(inv);
  return tu_done("test_dr");
}
