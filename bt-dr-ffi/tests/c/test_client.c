/* The API client of the C API against the simulator (started by with-sim.sh, which exports
 * BT_DR_SIM_* from the simulator's JSON line). Needs BT_DR_TMP (a scratch folder). */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "sim_control.h"
#include "test_util.h"

static const char *primary_url, *backup_url, *ca_path, *client_id, *client_secret, *control_url, *leaf_sha;
static char tmpdir[1024];

/* A client for `url` trusting the simulator's CA, with short retries. */
static bt_dr_client *make_client(const char *url, const char *secret) {
  bt_dr_client_builder *b = NULL;
  bt_dr_client *c = NULL;
  OK(bt_dr_client_builder_new(url, &b));
  OK(bt_dr_client_builder_set_credentials(b, client_id, secret));
  OK(bt_dr_client_builder_set_extra_ca_file(b, ca_path));
  OK(bt_dr_client_builder_set_only_extra_ca(b, true));
  OK(bt_dr_client_builder_set_retry_policy(b, 2, 10, 50, 2000, 1, 1000));
  OK(bt_dr_client_builder_set_site_name(b, "support"));
  OK(bt_dr_client_builder_build(b, &c));
  OK(bt_dr_client_builder_free(b));
  return c;
}

/* A fresh empty folder under BT_DR_TMP. */
static const char *fresh_dir(const char *name) {
  static char path[2048];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  mkdir(path, 0700);
  return path;
}

static int count_entries(const char *dir) {
  DIR *d = opendir(dir);
  if (d == NULL) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
  }
  closedir(d);
  return n;
}

/* Extracts the string value of "key" from a flat JSON text (enough for these tests). */
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

/* The SHA-256 of a file as sha256sum prints it (64 hex digits; empty on failure). */
static void sha256_of_file(const char *path, char out[65]) {
  char cmd[2200];
  out[0] = 0;
  snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
  FILE *p = popen(cmd, "r");
  if (p == NULL) return;
  if (fscanf(p, "%64s", out) != 1) out[0] = 0;
  pclose(p);
}

struct progress {
  int calls;
  uint64_t last_done;
  int64_t total;
  bt_dr_cancel_token *cancel_after_first;
};

static void on_progress(void *userdata, uint64_t done, int64_t total) {
  struct progress *p = userdata;
  p->calls++;
  p->last_done = done;
  p->total = total;
  if (p->cancel_after_first != NULL) bt_dr_cancel_token_cancel(p->cancel_after_first);
}

static void test_health_and_info(bt_dr_client *c) {
  bt_dr_health *h = NULL;
  OK(bt_dr_check_health(c, &h));
  bool success = false;
  OK(bt_dr_health_success(h, &success));
  CHECK(success);
  bt_dr_failover_role role = BT_DR_FAILOVER_ROLE_NONE;
  OK(bt_dr_health_failover_role(h, &role));
  CHECK(role == BT_DR_FAILOVER_ROLE_PRIMARY);
  char *version = NULL;
  OK(bt_dr_health_version(h, &version));
  CHECK(version != NULL && strncmp(version, "24.1.2 (", 8) == 0);
  FREE(version);
  char *json = NULL;
  OK(bt_dr_health_to_json(h, &json));
  CONTAINS(json, "\"hostname\":\"bt-a.example.com\"");
  CONTAINS(json, "\"failover_role\":\"primary\"");
  CONTAINS(json, "\"success\":true");
  FREE(json);
  bt_dr_health_free(h);

  OK(bt_dr_probe_health(c, &json));
  CONTAINS(json, "\"healthy\":true");
  CONTAINS(json, "\"status\":200");
  FREE(json);

  OK(bt_dr_get_api_info(c, &json));
  CONTAINS(json, "\"api_version\":\"1.24.0\"");
  CONTAINS(json, "\"command\":\"full_access\"");
  CHECK(!tu_contains(json, client_secret));
  FREE(json);

  OK(bt_dr_get_appliances(c, &json));
  CONTAINS(json, "\"public_hostname\":\"bt-a.example.com\"");
  FREE(json);

  OK(bt_dr_get_connected_clients(c, &json));
  CONTAINS(json, "\"client_type\":\"representative\"");
  FREE(json);

  /* The leaf certificate the appliance served: none before a connection, then the simulator's. */
  char *served = NULL;
  OK(bt_dr_client_served_leaf_sha256(c, &served));
  CHECK(served != NULL && strcmp(served, leaf_sha) == 0);
  FREE(served);
  bt_dr_client *fresh = make_client(primary_url, client_secret);
  served = (char *)"untouched";
  OK(bt_dr_client_served_leaf_sha256(fresh, &served));
  CHECK(served == NULL);
  bt_dr_client_free(fresh);
  FAILS(BT_DR_STATUS_NULL_ARGUMENT, bt_dr_client_served_leaf_sha256(NULL, &served));
}

static void test_backup(bt_dr_client *c) {
  const char *dir = fresh_dir("backup");
  struct progress p = {0, 0, 0, NULL};
  char *json = NULL;
  OK(bt_dr_download_backup(c, dir, NULL, on_progress, &p, NULL, &json));
  CONTAINS(json, "\"size\":1048576");
  CONTAINS(json, ".nsb\"");
  CONTAINS(json, "\"password_protected\":false");
  CHECK(p.calls > 0);
  CHECK(p.last_done == 1048576);
  CHECK(p.total == 1048576);
  char path[1024], sidecar[1024], sha[128];
  json_string(json, "path", path, sizeof path);
  json_string(json, "sidecar_path", sidecar, sizeof sidecar);
  json_string(json, "sha256", sha, sizeof sha);
  struct stat st;
  CHECK(stat(path, &st) == 0 && st.st_size == 1048576);
  CHECK(stat(sidecar, &st) == 0);
  CHECK(strlen(sha) == 64);
  FREE(json);

  /* A broken transfer is started over (no partial file is ever kept). */
  CHECK(sim_control(control_url, "/appliances/0/fault",
                    "{\"endpoint\":\"backup\",\"fault\":\"truncate_at\",\"value\":1000,\"times\":1}") == 200);
  const char *dir2 = fresh_dir("backup-retried");
  json = NULL;
  OK(bt_dr_download_backup(c, dir2, NULL, NULL, NULL, NULL, &json));
  char sha2[128];
  json_string(json, "sha256", sha2, sizeof sha2);
  CHECK(strcmp(sha, sha2) == 0);
  FREE(json);

  /* An HTML page instead of the backup is an integrity error. */
  CHECK(sim_control(control_url, "/appliances/0/fault", "{\"endpoint\":\"backup\",\"fault\":\"html_page\",\"times\":1}") == 200);
  const char *dir3 = fresh_dir("backup-html");
  FAILS(BT_DR_STATUS_INTEGRITY, bt_dr_download_backup(c, dir3, NULL, NULL, NULL, NULL, &json));
  CHECK(count_entries(dir3) == 0);

  /* Cancelled before it starts, and cancelled from the progress callback mid-way. */
  bt_dr_cancel_token *t = NULL;
  OK(bt_dr_cancel_token_new(&t));
  OK(bt_dr_cancel_token_cancel(t));
  bool cancelled = false;
  OK(bt_dr_cancel_token_is_cancelled(t, &cancelled));
  CHECK(cancelled);
  const char *dir4 = fresh_dir("backup-cancelled");
  FAILS(BT_DR_STATUS_CANCELLED, bt_dr_download_backup(c, dir4, NULL, NULL, NULL, t, &json));
  bt_dr_cancel_token_free(t);
  t = NULL;
  OK(bt_dr_cancel_token_new(&t));
  struct progress pc = {0, 0, 0, t};
  FAILS(BT_DR_STATUS_CANCELLED, bt_dr_download_backup(c, dir4, NULL, on_progress, &pc, t, &json));
  CHECK(pc.calls >= 1);
  CHECK(count_entries(dir4) == 0);
  bt_dr_cancel_token_free(t);
}

/* Standard base64 of `in` into `out` (NUL-terminated; cut when `out` is too small). */
static void base64(const char *in, char *out, size_t cap) {
  static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t n = strlen(in), o = 0;
  for (size_t i = 0; i < n && o + 4 < cap; i += 3) {
    unsigned v = (unsigned)(unsigned char)in[i] << 16;
    if (i + 1 < n) v |= (unsigned)(unsigned char)in[i + 1] << 8;
    if (i + 2 < n) v |= (unsigned)(unsigned char)in[i + 2];
    out[o++] = t[(v >> 18) & 63];
    out[o++] = t[(v >> 12) & 63];
    out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < n ? t[v & 63] : '=';
  }
  out[o] = 0;
}

/* Issue 12: no secret (client secret, backup password) shows in any error text: message or
 * details JSON, whatever failed after the secret was sent. */
static void test_secret_leaks(bt_dr_client *c) {
  static const char *backup_password = "bk-pass-Zq8x-4471";
  char *json = NULL;

  /* A wrong client secret: refused token, on a call and on a download. */
  bt_dr_client *bad = make_client(primary_url, "wrong-secret-Kx93-value");
  bt_dr_health *h = NULL;
  FAILS(BT_DR_STATUS_AUTH, bt_dr_check_health(bad, &h));
  NO_SECRET("wrong-secret-Kx93-value");
  NO_SECRET(client_secret);
  const char *d0 = fresh_dir("leak-auth");
  FAILS(BT_DR_STATUS_AUTH, bt_dr_download_backup(bad, d0, backup_password, NULL, NULL, NULL, &json));
  NO_SECRET("wrong-secret-Kx93-value");
  NO_SECRET(backup_password);
  bt_dr_client_free(bad);

  /* A backup password sent with a download that then fails (an HTML page, a wrong content
   * type): the password is in no error text, nor the client secret or the token. */
  CHECK(sim_control(control_url, "/appliances/0/fault", "{\"endpoint\":\"backup\",\"fault\":\"html_page\",\"times\":1}") == 200);
  const char *d1 = fresh_dir("leak-html");
  FAILS(BT_DR_STATUS_INTEGRITY, bt_dr_download_backup(c, d1, backup_password, NULL, NULL, NULL, &json));
  NO_SECRET(backup_password);
  NO_SECRET(client_secret);
  CHECK(sim_control(control_url, "/appliances/0/fault", "{\"endpoint\":\"backup\",\"fault\":\"wrong_content_type\",\"times\":1}") == 200);
  const char *d2 = fresh_dir("leak-ctype");
  bt_dr_status rc = bt_dr_download_backup(c, d2, backup_password, NULL, NULL, NULL, &json);
  CHECK(rc != BT_DR_STATUS_OK);
  if (rc == BT_DR_STATUS_OK) FREE(json);
  NO_SECRET(backup_password);
  NO_SECRET(client_secret);
  CHECK(sim_control(control_url, "/appliances/0/clear_faults", "") == 200);

  /* A proxy that echoes the request (`echo_headers`: request line, every header with the
   * bearer token, and the body with the backup password) in its error answer, with an error
   * status and with 200: only the core's redaction keeps them out of the error (the
   * simulator's own test echo_headers_also_leaks_the_request_body_with_the_backup_password
   * shows they are on the wire). Nor does the Basic pair of a token request show. */
  char basic[256];
  char pair[256];
  snprintf(pair, sizeof pair, "%s:%s", client_id, client_secret);
  base64(pair, basic, sizeof basic);
  static const char *echo_faults[] = {
      "{\"endpoint\":\"backup\",\"fault\":\"echo_headers\",\"value\":502,\"times\":null}",
      "{\"endpoint\":\"backup\",\"fault\":\"echo_headers\",\"value\":200,\"times\":null}",
      "{\"endpoint\":\"token\",\"fault\":\"echo_headers\",\"value\":502,\"times\":null}",
  };
  for (size_t i = 0; i < sizeof echo_faults / sizeof echo_faults[0]; i++) {
    CHECK(sim_control(control_url, "/appliances/0/fault", echo_faults[i]) == 200);
    /* A fresh client: no cached token, so the token request is made (and echoed) too. */
    bt_dr_client *fresh = make_client(primary_url, client_secret);
    const char *d3 = fresh_dir(i == 0 ? "leak-echo-502" : i == 1 ? "leak-echo-200" : "leak-echo-token");
    rc = bt_dr_download_backup(fresh, d3, backup_password, NULL, NULL, NULL, &json);
    CHECK(rc != BT_DR_STATUS_OK);
    if (rc == BT_DR_STATUS_OK) FREE(json);
    CHECK(count_entries(d3) == 0);
    NO_SECRET(backup_password);
    NO_SECRET(client_secret);
    NO_SECRET(basic);
    NO_SECRET("Bearer ");
    NO_SECRET("bearer ");
    NO_SECRET("Basic ");
    NO_SECRET("\"password\"");
    bt_dr_client_free(fresh);
    CHECK(sim_control(control_url, "/appliances/0/clear_faults", "") == 200);
  }
}

static void test_reporting(bt_dr_client *c) {
  char *json = NULL;
  OK(bt_dr_list_sessions(c, "{\"type\":\"start_time\",\"unix\":0,\"seconds\":0}", &json));
  char lsid[128];
  json_string(json, "lsid", lsid, sizeof lsid);
  CHECK(strlen(lsid) > 0);
  FREE(json);
  FAILS(BT_DR_STATUS_PARSE, bt_dr_list_sessions(c, "{\"type\":\"yesterday\"}", &json));
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_list_sessions(c, "{\"type\":\"lsids\",\"lsids\":[\"a\"]}", &json));

  OK(bt_dr_get_session(c, lsid, &json));
  CONTAINS(json, lsid);
  CONTAINS(json, "\"primary_rep\":\"Rep 1\"");
  FREE(json);
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_get_session(c, "../x", &json));

  const char *dir = fresh_dir("recordings");
  OK(bt_dr_download_recording(c, lsid, dir, NULL, NULL, NULL, &json));
  CONTAINS(json, "\"size\":65536");
  CONTAINS(json, ".flv\"");
  char recording_sha[80];
  json_string(json, "sha256", recording_sha, sizeof recording_sha);
  FREE(json);

  /* download_report: the same recording through the Reporting API kind, saved with the hash of
   * what is on disk; the other per-session kinds; exit surveys by time window. */
  char window[256], path[1024], on_disk[65];
  snprintf(window, sizeof window, "{\"type\":\"lsid\",\"lsid\":\"%s\"}", lsid);
  char rdir[2048]; /* fresh_dir's buffer is reused by the next call */
  snprintf(rdir, sizeof rdir, "%s", fresh_dir("reports"));
  struct progress p = {0, 0, 0, NULL};
  OK(bt_dr_download_report(c, "session_recording", window, rdir, on_progress, &p, NULL, &json));
  CONTAINS(json, "\"size\":65536");
  char report_sha[80];
  json_string(json, "sha256", report_sha, sizeof report_sha);
  json_string(json, "path", path, sizeof path);
  sha256_of_file(path, on_disk);
  CHECK(strlen(report_sha) == 64 && strcmp(report_sha, on_disk) == 0);
  CHECK(strcmp(report_sha, recording_sha) == 0);
  CHECK(p.calls > 0);
  FREE(json);
  OK(bt_dr_download_report(c, "session_report", window, rdir, NULL, NULL, NULL, &json));
  CONTAINS(json, ".xml\"");
  json_string(json, "path", path, sizeof path);
  FREE(json);
  size_t xml_len = 0;
  char *xml = (char *)tu_read_file(path, &xml_len);
  CHECK(xml != NULL && xml_len > 0);
  if (xml) {
    xml = realloc(xml, xml_len + 1);
    xml[xml_len] = 0;
    CONTAINS(xml, lsid);
    free(xml);
  }
  /* The first session of the simulator opened a command shell and did not use Show My Screen. */
  OK(bt_dr_download_report(c, "command_shell_recording", window, rdir, NULL, NULL, NULL, &json));
  CONTAINS(json, "\"sha256\":\"");
  FREE(json);
  FAILS(BT_DR_STATUS_NOT_FOUND, bt_dr_download_report(c, "show_my_screen_recording", window, rdir, NULL, NULL, NULL, &json));
  OK(bt_dr_download_report(c, "customer_exit_survey", "{\"type\":\"start_time\",\"unix\":0,\"seconds\":0}", rdir, NULL,
                           NULL, NULL, &json));
  CONTAINS(json, "customer_exit_survey");
  FREE(json);
  /* Mistakes: a kind the core does not know, a per-session kind for a time window, a window
   * that is not one. Nothing is left behind. */
  int before = count_entries(rdir);
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_download_report(c, "exit_survey", window, rdir, NULL, NULL, NULL, &json));
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_download_report(c, "session_recording",
                                                           "{\"type\":\"start_time\",\"unix\":0,\"seconds\":0}", rdir,
                                                           NULL, NULL, NULL, &json));
  FAILS(BT_DR_STATUS_PARSE, bt_dr_download_report(c, "session_recording", "{\"type\":\"yesterday\"}", rdir, NULL, NULL,
                                                   NULL, &json));
  FAILS(BT_DR_STATUS_NULL_ARGUMENT, bt_dr_download_report(c, NULL, window, rdir, NULL, NULL, NULL, &json));
  bt_dr_cancel_token *t = NULL;
  OK(bt_dr_cancel_token_new(&t));
  OK(bt_dr_cancel_token_cancel(t));
  FAILS(BT_DR_STATUS_CANCELLED, bt_dr_download_report(c, "session_recording", window, fresh_dir("reports-cancelled"), NULL,
                                                       NULL, t, &json));
  bt_dr_cancel_token_free(t);
  CHECK(count_entries(rdir) == before);

  char today[16];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(today, sizeof today, "%Y-%m-%d", &tm);
  OK(bt_dr_list_archives(c, today, &json));
  CONTAINS(json, "\"kind\":\"state\"");
  FREE(json);
  OK(bt_dr_list_archives(c, "2001-01-01", &json));
  CHECK(json && strcmp(json, "[]") == 0);
  FREE(json);
  const char *adir = fresh_dir("archives");
  OK(bt_dr_download_archive(c, "state", today, 1, adir, NULL, NULL, NULL, &json));
  CONTAINS(json, ".json.gz\"");
  FREE(json);
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_download_archive(c, "weekly", today, 1, adir, NULL, NULL, NULL, &json));
  FAILS(BT_DR_STATUS_NOT_FOUND, bt_dr_download_archive(c, "state", "2001-01-01", 1, adir, NULL, NULL, NULL, &json));
}

static void test_errors(void) {
  char *json = NULL;
  bt_dr_client_builder *b = NULL;
  bt_dr_client *c = NULL;

  /* Configuration errors surface at build time. */
  OK(bt_dr_client_builder_new("not a url", &b));
  OK(bt_dr_client_builder_set_credentials(b, client_id, client_secret));
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_client_builder_build(b, &c));
  CHECK(c == NULL);
  bt_dr_client_builder_free(b);
  OK(bt_dr_client_builder_new("http://127.0.0.1:1", &b));
  OK(bt_dr_client_builder_set_credentials(b, client_id, client_secret));
  FAILS(BT_DR_STATUS_TLS, bt_dr_client_builder_build(b, &c));
  CONTAINS(tu_last_message(), "refusing plain http");
  bt_dr_client_builder_free(b);
  OK(bt_dr_client_builder_new(primary_url, &b));
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_client_builder_build(b, &c));
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_client_builder_set_pin_sha256(b, "zz"));
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_client_builder_set_product(b, "xyz"));
  FAILS(BT_DR_STATUS_NULL_ARGUMENT, bt_dr_client_builder_set_credentials(NULL, "a", "b"));
  bt_dr_client_builder_free(b);

  /* A wrong secret is an auth error that never shows the secret. */
  c = make_client(primary_url, "wrong-secret-value");
  bt_dr_health *h = NULL;
  FAILS(BT_DR_STATUS_AUTH, bt_dr_check_health(c, &h));
  CHECK(h == NULL);
  CHECK(!tu_contains(tu_last_message(), "wrong-secret-value"));
  char *details = tu_last_details();
  CONTAINS(details, "\"kind\":\"auth\"");
  CHECK(!tu_contains(details, "wrong-secret-value"));
  FREE(details);
  bt_dr_client_free(c);

  /* TLS: the simulator's CA is not a system root; a wrong pin is refused. */
  OK(bt_dr_client_builder_new(primary_url, &b));
  OK(bt_dr_client_builder_set_credentials(b, client_id, client_secret));
  OK(bt_dr_client_builder_set_retry_policy(b, 1, 10, 10, 100, 0, 10));
  OK(bt_dr_client_builder_build(b, &c));
  FAILS(BT_DR_STATUS_TLS, bt_dr_check_health(c, &h));
  bt_dr_client_free(c);
  OK(bt_dr_client_builder_set_extra_ca_file(b, ca_path));
  OK(bt_dr_client_builder_set_pin_sha256(b, "00000000000000000000000000000000000000000000000000000000000000ff"));
  OK(bt_dr_client_builder_build(b, &c));
  FAILS(BT_DR_STATUS_TLS, bt_dr_check_health(c, &h));
  bt_dr_client_free(c);
  OK(bt_dr_client_builder_set_pin_sha256(b, leaf_sha));
  OK(bt_dr_client_builder_build(b, &c));
  OK(bt_dr_check_health(c, &h));
  bt_dr_health_free(h);
  bt_dr_client_builder_free(b);

  /* The appliance's own error text reaches the details. */
  CHECK(sim_control(control_url, "/appliances/0/fault",
                    "{\"endpoint\":\"command\",\"fault\":\"xml_error\",\"value\":\"Simulated trouble\",\"times\":1}") == 200);
  FAILS(BT_DR_STATUS_API, bt_dr_get_appliances(c, &json));
  details = tu_last_details();
  CONTAINS(details, "\"appliance_message\":\"Simulated trouble\"");
  FREE(details);

  /* Rate limited past the retry budget. */
  CHECK(sim_control(control_url, "/appliances/0/fault",
                    "{\"endpoint\":\"command\",\"fault\":\"rate_limited\",\"value\":1,\"times\":5}") == 200);
  FAILS(BT_DR_STATUS_RATE_LIMITED, bt_dr_get_appliances(c, &json));
  details = tu_last_details();
  CONTAINS(details, "\"retry_after_ms\":");
  FREE(details);
  CHECK(sim_control(control_url, "/appliances/0/clear_faults", "") == 200);

  /* An appliance that is down is a network error. */
  CHECK(sim_control(control_url, "/appliances/0/down", "{\"down\":true}") == 200);
  FAILS(BT_DR_STATUS_NETWORK, bt_dr_probe_health(c, &json));
  CHECK(sim_control(control_url, "/appliances/0/down", "{\"down\":false}") == 200);
  OK(bt_dr_probe_health(c, &json));
  FREE(json);
  bt_dr_client_free(c);
}

struct worker {
  bt_dr_client *client;
  int ok;
};

static void *health_worker(void *arg) {
  struct worker *w = arg;
  for (int i = 0; i < 3; i++) {
    bt_dr_health *h = NULL;
    if (bt_dr_check_health(w->client, &h) == BT_DR_STATUS_OK) w->ok++;
    bt_dr_health_free(h);
  }
  return NULL;
}

static void test_threads(bt_dr_client *c) {
  pthread_t t[2];
  struct worker w[2] = {{c, 0}, {c, 0}};
  for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, health_worker, &w[i]);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  CHECK(w[0].ok == 3 && w[1].ok == 3);
}

static void test_failover_role(void) {
  bt_dr_client *backup = make_client(backup_url, client_secret);
  bt_dr_health *h = NULL;
  bt_dr_failover_role role = BT_DR_FAILOVER_ROLE_NONE;
  OK(bt_dr_check_health(backup, &h));
  OK(bt_dr_health_failover_role(h, &role));
  CHECK(role == BT_DR_FAILOVER_ROLE_BACKUP);
  bt_dr_health_free(h);
  char *json = NULL;
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_set_failover_role(backup, "boss", false, false, &json));
  OK(bt_dr_set_failover_role(backup, "primary", false, false, &json));
  CONTAINS(json, "\"sync_started\":false");
  FREE(json);
  h = NULL;
  OK(bt_dr_check_health(backup, &h));
  OK(bt_dr_health_failover_role(h, &role));
  CHECK(role == BT_DR_FAILOVER_ROLE_PRIMARY);
  bt_dr_health_free(h);
  bt_dr_client_free(backup);
}

int main(void) {
  primary_url = tu_env("BT_DR_SIM_PRIMARY_URL");
  backup_url = tu_env("BT_DR_SIM_BACKUP_URL");
  ca_path = tu_env("BT_DR_SIM_CA_PEM_PATH");
  client_id = tu_env("BT_DR_SIM_CLIENT_ID");
  client_secret = tu_env("BT_DR_SIM_CLIENT_SECRET");
  control_url = tu_env("BT_DR_SIM_CONTROL_URL");
  leaf_sha = tu_env("BT_DR_SIM_LEAF_CERT_SHA256");
  snprintf(tmpdir, sizeof tmpdir, "%s", tu_env("BT_DR_TMP"));

  bt_dr_client *c = make_client(primary_url, client_secret);
  test_health_and_info(c);
  test_backup(c);
  test_secret_leaks(c);
  test_reporting(c);
  test_threads(c);
  bt_dr_client_free(c);
  test_errors();
  test_failover_role();
  return tu_done("test_client");
}
