/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Book ch. 3.4, "GenServer.reply/2": the FoodOrderingServer.  Placing an
 * order is slow, so handle_call hands it to another process and returns
 * :noreply; that process tells the server when the order is ready, and the
 * server answers the waiting caller with GenServer.reply(from, ...).
 * Meanwhile the server goes on answering list_orders at once.
 *
 *   def handle_call({:place_order, user, item}, from, state) do
 *     IO.puts("Recieved new order request from #{inspect(from)}")
 *     spawn(fn -> :timer.sleep(6000)
 *                 send(__MODULE__, {:order_placed, user, item, from}) end)
 *     {:noreply, state}
 *   end
 *
 * Placing an order takes ORDER_MS milliseconds here (default 600) rather
 * than 6 seconds.  The state, a map of user => [items], is a term: it is
 * copied into a heap the state owns after each change, since the server's
 * own heap is released after every message.
 */
#include <cotp.h>
#include <stdio.h>
#include <stdlib.h>

#define SERVER COTP_ATOM(Elixir.FoodOrderingServer)

static int64_t order_ms = 600;

struct orders {
  cotp_heap *heap;
  cotp_term map; /* %{user => [item]} */
};

/* A new map for the state: copied into a fresh heap, the old one goes. */
static void keep(struct orders *o, cotp_term map) {
  cotp_heap *fresh = cotp_heap_new();
  o->map = cotp_term_copy(fresh, map);
  cotp_heap_free(o->heap);
  o->heap = fresh;
}

static void print_text(cotp_term binary) {
  size_t len;
  const uint8_t *s = cotp_binary_data(binary, &len);
  printf("%.*s", (int)len, (const char *)s);
}

/* spawn(fn -> :timer.sleep(...); send(__MODULE__, {:order_placed, ...}) end):
 * the order comes in a message, since the terms of the call live only
 * until handle_call returns */
static void kitchen(void *arg) {
  (void)arg;
  cotp_term order; /* {user, item, from} */
  cotp_receive(COTP_INFINITY, &order);
  cotp_sleep(order_ms);
  cotp_send_name(SERVER, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(order_placed),
                                    cotp_tuple_get(order, 0), cotp_tuple_get(order, 1),
                                    cotp_tuple_get(order, 2)));
}

static cotp_gs_ret init(cotp_term arg, void **state) {
  (void)arg;
  struct orders *o = calloc(1, sizeof *o);
  keep(o, cotp_map(cotp_self_heap(), 0, NULL, NULL));
  *state = o;
  return cotp_gs_ok();
}

static cotp_gs_ret handle_call(cotp_term request, cotp_genserver_from from,
                               void **state) {
  struct orders *o = *state;
  cotp_heap *h = cotp_self_heap();
  cotp_term user = cotp_tuple_get(request, 1);
  if (cotp_tuple_get(request, 0).w == COTP_ATOM(place_order).w) {
    cotp_term from_term = cotp_genserver_from_term(h, from);
    printf("Recieved new order request from ");
    cotp_term_fprint(stdout, from_term);
    printf("\n");
    cotp_pid cook;
    cotp_spawn(kitchen, NULL, &cook);
    cotp_send(cook, COTP_TUPLE(h, user, cotp_tuple_get(request, 2), from_term));
    /* Notice how we return :noreply here (the caller process will be
     * blocked and waiting since we did not reply) */
    return cotp_gs_noreply();
  }
  cotp_term orders = cotp_map_get(o->map, user); /* {:list_orders, user} */
  return cotp_gs_reply(cotp_is_none(orders) ? COTP_NIL : orders);
}

static cotp_gs_ret handle_info(cotp_term msg, void **state) {
  struct orders *o = *state;
  cotp_heap *h = cotp_self_heap();
  cotp_term user = cotp_tuple_get(msg, 1), item = cotp_tuple_get(msg, 2);
  cotp_term existing = cotp_map_get(o->map, user);
  keep(o, cotp_map_put(h, o->map, user,
                       cotp_cons(h, item, cotp_is_none(existing) ? COTP_NIL : existing)));
  printf("Order ");
  print_text(item);
  printf(" ready for ");
  print_text(user);
  printf("\n");
  /* Send reply to the caller who is waiting for the order */
  cotp_genserver_from from;
  cotp_genserver_from_get(cotp_tuple_get(msg, 3), &from);
  cotp_genserver_reply(from, cotp_format(h, "{:ok, :order_placed}"));
  return cotp_gs_noreply();
}

static void free_state(void *state) {
  struct orders *o = state;
  cotp_heap_free(o->heap);
  free(o);
}

static const cotp_genserver_callbacks food_ordering_server = {
    .name = "FoodOrderingServer",
    .init = init,
    .handle_call = handle_call,
    .handle_info = handle_info,
    .free_state = free_state,
};

/* Public APIs */

static int start_link(void) {
  cotp_genserver_opts opts = COTP_GENSERVER_OPTS_INIT;
  opts.name = cotp_name_local(SERVER);
  return cotp_genserver_start_link(&food_ordering_server, COTP_NIL, &opts, NULL,
                                   NULL);
}

static cotp_term place_order(const char *user, const char *item) {
  /* We specify a timeout of 10 seconds to avoid timeout errors, since
   * placing an order takes a lot of time */
  return cotp_genserver_call(
      cotp_server_name(SERVER),
      cotp_format(cotp_self_heap(), "{:place_order, ~s, ~s}", user, item), 10000);
}

static cotp_term list_orders(const char *user) {
  return cotp_genserver_call(cotp_server_name(SERVER),
                             cotp_format(cotp_self_heap(), "{:list_orders, ~s}", user),
                             COTP_GENSERVER_TIMEOUT);
}

/* --- the session --- */

static void show(const char *label, cotp_term t) {
  printf("%s: ", label);
  cotp_term_fprint(stdout, t);
  printf("\n");
}

static void jhon_orders_a_burger(void *arg) {
  (void)arg;
  place_order("Jhon", "burger");
}

static void tom_orders_ice_cream(void *arg) {
  (void)arg;
  place_order("Tom", "ice cream");
  show("Toms orders", list_orders("Tom"));
}

static void tom_lists(void *arg) {
  (void)arg;
  show("Toms orders", list_orders("Tom"));
}

static void root(void *arg) {
  (void)arg;
  setvbuf(stdout, NULL, _IOLBF, 0);
  start_link();
  /* These two calls run one after the other: the caller waits until the
   * order is placed and the GenServer replies */
  place_order("Jhon", "sandwich");
  place_order("Tom", "pizza");
  /* Ordering simultaneously from different processes */
  cotp_entry *clients[3] = {jhon_orders_a_burger, tom_orders_ice_cream, tom_lists};
  cotp_term refs[3];
  for (int i = 0; i < 3; i++) {
    cotp_pid pid;
    cotp_spawn_monitor(clients[i], NULL, &pid, &refs[i]);
    cotp_sleep(10); /* in the book's order */
  }
  for (int i = 0; i < 3; i++) {
    cotp_clause c = {cotp_pattern_cached("{:DOWN, ^ref, _, _, _}", NULL), &refs[i],
                     NULL};
    cotp_receive_match(&c, 1, COTP_INFINITY, 0, NULL);
  }
}

int main(void) {
  const char *ms = getenv("ORDER_MS");
  if (ms)
    order_ms = atol(ms);
  return cotp_run(root, NULL, NULL, NULL, NULL);
}
