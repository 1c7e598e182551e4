// Inside the HTTP module: an HTTP/1.1 server on one thread with epoll, non-blocking sockets,
// keep-alive and pipelining (requests of a connection answered one at a time, in order). What a
// hostile or careless client can hold is bounded:
//   - the whole request head must arrive within `deadline` of the connection's wait starting
//     (its accept, or the end of its previous answer); bytes trickling in do not extend it;
//   - an answer must be written within `deadline`, and one answer at a time is held per connection;
//   - at most `max_connections` are open: a new one closes the one that has waited longest;
//     new connections are accepted 16 at a time, after the requests that have arrived on the
//     open ones are answered, so a burst of connections cannot evict a scrape already sent;
//   - a head above RequestLimits::max_head is refused (431), a refused or closing request gets
//     its answer, then the write side is shut and what the client still sends is drained briefly,
//     so the answer is not lost to a reset;
//   - stop() ends serve() at once, from any thread, whatever the clients do.
//
//   auto server = make_event_server({64, std::chrono::seconds(5), {}}, respond);
//   int port = server->bind("127.0.0.1", 0);
//   std::thread t([&] { server->serve(); });   ...   server->stop(); t.join();
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "exporter/http_module.hpp"
#include "exporter/http_request.hpp"

namespace pressure::exporter::http {

struct Answer {
  std::string bytes;   // the whole response: status line, header fields, body
  bool close = false;  // close the connection once it is sent
};

// Called on the serving thread for each request or refusal; must not throw.
using Respond = std::function<Answer(const Parsed& parsed)>;

struct LoopLimits {
  std::size_t max_connections = 64;
  std::chrono::milliseconds deadline{5000};
  RequestLimits request;
};

std::unique_ptr<Server> make_event_server(const LoopLimits& limits, Respond respond);

}  // namespace pressure::exporter::http
