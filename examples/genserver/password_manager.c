/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Book ch. 3.3, "GenServer examples": the PasswordManager, and its tests.
 *
 *   {:ok, _pid} = PasswordManager.start_link(nil)
 *   PasswordManager.save_password("gmail.com", "john_doe@gmail.com", "12345")
 *   |> IO.inspect(label: "Saving Gmail creds")
 *   ...
 *   PasswordManager.stop()
 *
 * `password_manager` runs that session; `password_manager --test` runs the
 * chapter's three ExUnit tests, each in a process of its own as ExUnit
 * does, and prints ExUnit's summary.
 *
 * As the book advises, the validation is plain functions, apart from the
 * server.  An entry travels as a map (the book's %Password{} struct):
 * %{inserted_at: "2024-05-01T12:00:00Z", password: ..., url: ...,
 * username: ...}.  The server keeps entries as C strings, not terms,
 * since they outlive the messages they came in.
 */
#define _POSIX_C_SOURCE 200809L /* gmtime_r */
#include <cotp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* --- Password: validation, no processes --- */

struct password {
  char *url, *username, *password, *inserted_at;
};

static char *copy_text(const char *s) {
  size_t n = strlen(s) + 1;
  return memcpy(malloc(n), s, n);
}

static char *text_of(cotp_term t) {
  size_t len;
  const uint8_t *data = cotp_binary_data(t, &len);
  if (!data)
    return NULL;
  char *s = malloc(len + 1);
  memcpy(s, data, len);
  s[len] = '\0';
  return s;
}

static size_t utf8_length(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

/* Password.validate_entry/1: NULL, or why not (*why, a string). */
static const char *validate_entry(cotp_term entry) {
  cotp_term url = cotp_map_get(entry, COTP_ATOM(url));
  cotp_term username = cotp_map_get(entry, COTP_ATOM(username));
  cotp_term password = cotp_map_get(entry, COTP_ATOM(password));
  if (!cotp_is_binary(url))
    return "Invalid url";
  if (!cotp_is_binary(username))
    return "Invalid username";
  char *u = text_of(username);
  size_t ulen = utf8_length(u);
  free(u);
  if (ulen == 0)
    return "Username is empty";
  if (!cotp_is_binary(password))
    return "Invalid password";
  char *p = text_of(password);
  size_t plen = utf8_length(p);
  free(p);
  if (plen < 3)
    return "Password must be atleast 3 character long";
  return NULL;
}

static cotp_term entry_term(cotp_heap *h, const struct password *p) {
  return cotp_format(h, "%{url: ~s, username: ~s, password: ~s, inserted_at: ~s}",
                     p->url, p->username, p->password, p->inserted_at);
}

/* --- PasswordManager: the server --- */

#define MANAGER COTP_ATOM(Elixir.PasswordManager)

struct vault {
  struct password *at;
  size_t n, cap;
};

static struct password *find(struct vault *v, const char *url) {
  for (size_t i = 0; i < v->n; i++)
    if (!strcmp(v->at[i].url, url))
      return &v->at[i];
  return NULL;
}

static void forget(struct password *p) {
  free(p->url), free(p->username), free(p->password), free(p->inserted_at);
}

static cotp_gs_ret init(cotp_term arg, void **state) {
  (void)arg;
  *state = calloc(1, sizeof(struct vault));
  return cotp_gs_ok();
}

static cotp_gs_ret handle_call(cotp_term request, cotp_genserver_from from,
                               void **state) {
  (void)from;
  struct vault *v = *state;
  cotp_heap *h = cotp_self_heap();
  cotp_term tag = cotp_tuple_get(request, 0), arg = cotp_tuple_get(request, 1);
  if (tag.w == COTP_ATOM(save_password).w) {
    const char *why = validate_entry(arg);
    if (why)
      return cotp_gs_reply(COTP_TUPLE(h, COTP_ATOM_ERROR, cotp_string(h, why)));
    char *url = text_of(cotp_map_get(arg, COTP_ATOM(url)));
    struct password *p = find(v, url);
    if (p) {
      forget(p);
    } else {
      if (v->n == v->cap) {
        v->cap = v->cap ? 2 * v->cap : 4;
        v->at = realloc(v->at, v->cap * sizeof *v->at);
      }
      p = &v->at[v->n++];
    }
    char stamp[32];
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &(struct tm){0}));
    *p = (struct password){url, text_of(cotp_map_get(arg, COTP_ATOM(username))),
                           text_of(cotp_map_get(arg, COTP_ATOM(password))),
                           copy_text(stamp)};
    return cotp_gs_reply(COTP_ATOM(saved));
  }
  /* {:get_password, url} */
  char *url = text_of(arg);
  struct password *p = url ? find(v, url) : NULL;
  free(url);
  return cotp_gs_reply(p ? entry_term(h, p) : COTP_ATOM(not_found));
}

static cotp_gs_ret handle_cast(cotp_term request, void **state) {
  struct vault *v = *state;
  char *url = text_of(cotp_tuple_get(request, 1)); /* {:delete_password, url} */
  struct password *p = url ? find(v, url) : NULL;
  free(url);
  if (p) {
    forget(p);
    *p = v->at[--v->n];
  }
  return cotp_gs_noreply();
}

static void free_state(void *state) {
  struct vault *v = state;
  for (size_t i = 0; i < v->n; i++)
    forget(&v->at[i]);
  free(v->at);
  free(v);
}

static const cotp_genserver_callbacks password_manager = {
    .name = "PasswordManager",
    .init = init,
    .handle_call = handle_call,
    .handle_cast = handle_cast,
    .free_state = free_state,
};

/* Public APIs */

static int start_link(void) {
  cotp_genserver_opts o = COTP_GENSERVER_OPTS_INIT;
  o.name = cotp_name_local(MANAGER); /* the module name as the name */
  return cotp_genserver_start_link(&password_manager, COTP_NIL, &o, NULL, NULL);
}

static cotp_term save_password(const char *url, const char *username,
                               const char *password) {
  cotp_term entry = cotp_format(cotp_self_heap(),
                                "{:save_password, %{url: ~s, username: ~s, password: ~s}}",
                                url, username, password);
  return cotp_genserver_call(cotp_server_name(MANAGER), entry, COTP_GENSERVER_TIMEOUT);
}

static cotp_term get_password(const char *url) {
  return cotp_genserver_call(cotp_server_name(MANAGER),
                             cotp_format(cotp_self_heap(), "{:get_password, ~s}", url),
                             COTP_GENSERVER_TIMEOUT);
}

static cotp_term delete_password(const char *url) {
  cotp_genserver_cast(cotp_server_name(MANAGER),
                      cotp_format(cotp_self_heap(), "{:delete_password, ~s}", url));
  return COTP_ATOM_OK;
}

static void stop(void) {
  cotp_genserver_stop(cotp_server_name(MANAGER), COTP_ATOM_NORMAL, COTP_INFINITY);
}

/* --- the session --- */

static void inspect(const char *label, cotp_term t) {
  printf("%s: ", label);
  cotp_term_fprint(stdout, t);
  printf("\n");
}

static void session(void) {
  start_link();
  inspect("Saving Gmail creds", save_password("gmail.com", "john_doe@gmail.com", "12345"));
  inspect("Saving Spotify creds", save_password("spotify.com", "music4life", "ab"));
  inspect("Saving Apple creds", save_password("apple.com", "iuser", "ilife"));
  inspect("Gmail creds", get_password("gmail.com"));
  inspect("Spotify creds", get_password("spotify.com"));
  inspect("Deleting Gmail", delete_password("gmail.com"));
  inspect("Gmail creds", get_password("gmail.com"));
  stop();
}

/* --- PasswordManagerTest --- */

#define assert_that(cond)                                                   \
  do {                                                                      \
    if (!(cond))                                                            \
      cotp_exit(cotp_format(cotp_self_heap(), "{:assertion_failed, ~s, ~i}", \
                            #cond, __LINE__));                              \
  } while (0)

static bool eq(cotp_term a, const char *text) {
  return cotp_term_eq(a, cotp_parse(cotp_self_heap(), text));
}

/* describe "save_password/3": saves password if password entry is valid */
static void saves_a_valid_entry(void) {
  assert_that(start_link() == 0);
  assert_that(eq(save_password("gmail.com", "john_doe@gmail.com", "12345"), ":saved"));
  cotp_term p = get_password("gmail.com");
  assert_that(eq(cotp_map_get(p, COTP_ATOM(url)), "\"gmail.com\""));
  assert_that(eq(cotp_map_get(p, COTP_ATOM(username)), "\"john_doe@gmail.com\""));
  assert_that(eq(cotp_map_get(p, COTP_ATOM(password)), "\"12345\""));
  assert_that(cotp_is_binary(cotp_map_get(p, COTP_ATOM(inserted_at))));
}

/* does not save password if password entry is invalid */
static void refuses_an_invalid_entry(void) {
  assert_that(start_link() == 0);
  assert_that(eq(save_password("gmail.com", "john_doe@gmail.com", "12"),
                 "{:error, \"Password must be atleast 3 character long\"}"));
  assert_that(eq(get_password("gmail.com"), ":not_found"));
}

/* describe "delete_password/3": deletes password if password found */
static void deletes_an_entry(void) {
  assert_that(start_link() == 0);
  assert_that(eq(save_password("gmail.com", "john_doe@gmail.com", "12345"), ":saved"));
  assert_that(eq(delete_password("gmail.com"), ":ok"));
  assert_that(eq(get_password("gmail.com"), ":not_found"));
}

static void (*const all_tests[3])(void) = {saves_a_valid_entry,
                                           refuses_an_invalid_entry,
                                           deletes_an_entry};

static void run_test(void *arg) {
  all_tests[(intptr_t)arg]();
  /* an ExUnit test process ends with :shutdown, taking what it linked */
  cotp_exit(COTP_ATOM_SHUTDOWN);
}

static void tests(void) {
  int failures = 0;
  for (int i = 0; i < 3; i++) {
    cotp_pid pid, server;
    cotp_term ref, down;
    cotp_spawn_monitor(run_test, (void *)(intptr_t)i, &pid, &ref);
    cotp_term pins[1] = {ref};
    cotp_term reason;
    cotp_clause c = {cotp_pattern_cached("{:DOWN, ^ref, _, _, reason}", NULL), pins,
                     &reason};
    cotp_receive_match(&c, 1, COTP_INFINITY, 0, &down);
    bool ok = reason.w == COTP_ATOM_SHUTDOWN.w;
    failures += !ok;
    printf("%s", ok ? "." : "F");
    if (!ok) {
      printf("\n  test %d failed: ", i + 1);
      cotp_term_fprint(stdout, reason);
      printf("\n");
    }
    /* the linked server goes with the test; wait until its name is free */
    while (cotp_whereis(MANAGER, &server) == 0)
      cotp_sleep(1);
  }
  printf("\n\n3 tests, %d failure%s\n", failures, failures == 1 ? "" : "s");
}

static void root(void *arg) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (arg)
    tests();
  else
    session();
}

int main(int argc, char **argv) {
  bool test = argc > 1 && !strcmp(argv[1], "--test");
  return cotp_run(root, test ? (void *)1 : NULL, NULL, NULL, NULL);
}
