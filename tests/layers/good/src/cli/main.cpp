#include <csignal>

#include <pressure/pressure.hpp>

#include "core/values.hpp"
#include "daemon/daemon.hpp"

void on_stop(int) {}
int main() {
  struct sigaction action {};
  action.sa_handler = on_stop;
  sigaction(SIGTERM, &action, nullptr);
}
