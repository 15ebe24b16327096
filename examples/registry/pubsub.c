/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Book ch. 4.0, "Building a pubsub system with Registry": a duplicate
 * registry with a partition per scheduler, a topic as the key, and
 * dispatch to broadcast to every subscriber.  The book subscribes the
 * shell alone; here three subscriber processes join it, so the broadcast
 * visibly reaches several processes spread over the partitions.
 *
 *   {:ok, _} = Registry.start_link(keys: :duplicate, name: Registry.ChatPubSub,
 *                                  partitions: System.schedulers_online())
 *   {:ok, _} = Registry.register(Registry.ChatPubSub, "chat_room:1", [])
 *   Registry.dispatch(Registry.ChatPubSub, "chat_room:1", fn entries ->
 *     for {pid, _} <- entries, do: send(pid, {:broadcast, "hello world"})
 *   end)
 *   receive do
 *     {:broadcast, message} -> IO.inspect(message, label: "Received broadcast")
 *   end
 */
#include <cotp.h>
#include <stdio.h>

static cotp_registry *chat;

static void broadcast(cotp_term entries, void *msg) {
  for (cotp_term l = entries; cotp_is_cons(l); l = cotp_tail(l))
    cotp_send(cotp_get_pid(cotp_tuple_get(cotp_head(l), 0)), *(cotp_term *)msg);
}

/* A subscriber: joins the room, tells the root, prints what it hears. */
static void subscriber(void *arg) {
  cotp_pid root = *(cotp_pid *)arg;
  cotp_heap *h = cotp_self_heap();
  cotp_registry_register(chat, cotp_string(h, "chat_room:1"), COTP_NIL, NULL);
  cotp_send(root, COTP_ATOM(joined));
  cotp_term msg, text;
  cotp_clause c = {cotp_pattern_cached("{:broadcast, message}", NULL), NULL, &text};
  cotp_receive_match(&c, 1, COTP_INFINITY, 0, &msg);
  cotp_send(root, COTP_TUPLE(h, COTP_ATOM(heard), text));
}

static void root(void *arg) {
  (void)arg;
  setvbuf(stdout, NULL, _IOLBF, 0);
  cotp_heap *h = cotp_self_heap();
  cotp_registry_opts o = COTP_REGISTRY_OPTS_INIT;
  o.keys = COTP_REGISTRY_DUPLICATE;
  o.name = cotp_parse(h, "Registry.ChatPubSub");
  o.partitions = cotp_schedulers_online(); /* System.schedulers_online() */
  if (cotp_registry_start_link(&o, &chat, NULL) != 0)
    cotp_exit(COTP_ATOM(registry_failed));
  cotp_term room = cotp_string(h, "chat_room:1");
  cotp_registry_register(chat, room, COTP_NIL, NULL);

  cotp_pid self = cotp_self();
  cotp_spawn_opts so = COTP_SPAWN_OPTS_INIT;
  so.arg_size = sizeof self;
  cotp_clause joined = {cotp_pattern_cached(":joined", NULL), NULL, NULL};
  for (int i = 0; i < 3; i++) {
    cotp_spawn_opt(subscriber, &self, &so, NULL);
    cotp_receive_match(&joined, 1, COTP_INFINITY, 0, NULL);
  }

  cotp_term msg = cotp_format(h, "{:broadcast, \"hello world\"}");
  cotp_registry_dispatch(chat, room, broadcast, &msg, 0);

  cotp_term text;
  cotp_clause c = {cotp_pattern_cached("{:broadcast, message}", NULL), NULL, &text};
  cotp_receive_match(&c, 1, COTP_INFINITY, 0, NULL);
  printf("Received broadcast: ");
  cotp_term_fprint(stdout, text);
  printf("\n");
  cotp_clause heard = {cotp_pattern_cached("{:heard, message}", NULL), NULL, &text};
  for (int i = 0; i < 3; i++) {
    cotp_receive_match(&heard, 1, COTP_INFINITY, 0, NULL);
    printf("a subscriber received: ");
    cotp_term_fprint(stdout, text);
    printf("\n");
  }
  cotp_registry_release(chat);
}

int main(void) { return cotp_run(root, NULL, NULL, NULL, NULL); }
