// A loopback load generator for the exporter: THREADS clients send REQUESTS GETs in all, half of
// them on kept-alive connections and half opening a connection per request (as a crowd of
// scrapers does). Prints "requests=N ok=N errors=N bytes=N" and exits 1 on any error.
// Usage: pressure_scrape_storm HOST PORT PATH THREADS REQUESTS
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s HOST PORT PATH THREADS REQUESTS\n", argv[0]);
    return 2;
  }
  std::string host = argv[1];
  int port = std::atoi(argv[2]);
  std::string path = argv[3];
  int threads = std::atoi(argv[4]);
  long requests = std::atol(argv[5]);
  if (port <= 0 || threads <= 0 || requests <= 0) {
    std::fprintf(stderr, "%s: PORT, THREADS and REQUESTS must be positive\n", argv[0]);
    return 2;
  }
  std::atomic<long> next{0};
  std::atomic<long> ok{0};
  std::atomic<long> errors{0};
  std::atomic<long> bytes{0};
  std::atomic<bool> reported{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      httplib::Client client(host, port);
      client.set_keep_alive(t % 2 == 0);
      client.set_connection_timeout(10, 0);
      client.set_read_timeout(30, 0);
      if (t % 4 < 2)
        client.set_default_headers({{"Accept-Encoding", t % 4 == 0 ? "gzip" : "gzip, deflate, br"}});
      while (next.fetch_add(1) < requests) {
        auto response = client.Get(path.c_str());
        if (response && response->status == 200 && !response->body.empty()) {
          ++ok;
          bytes += static_cast<long>(response->body.size());
        } else {
          ++errors;
          if (!reported.exchange(true))
            std::fprintf(stderr, "first error: %s\n",
                         response ? ("HTTP " + std::to_string(response->status)).c_str()
                                  : httplib::to_string(response.error()).c_str());
        }
      }
    });
  for (std::thread& w : workers) w.join();
  std::printf("requests=%ld ok=%ld errors=%ld bytes=%ld\n", requests, ok.load(), errors.load(), bytes.load());
  return errors == 0 ? 0 : 1;
}
