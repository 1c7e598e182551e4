// sys::StopSignals, the one way every program takes SIGINT/SIGTERM (and the daemon SIGHUP): a
// signal sent to the process arrives as a byte on the pipe and, for a stop signal, as the flag;
// the mask is restored when it goes away. Each case runs in a fresh single-threaded process (a
// death test, re-executed), so a signal sent to the process can reach no other thread.
#include <csignal>

#include <gtest/gtest.h>
#include <pthread.h>
#include <unistd.h>

#include "sys/stop_signals.hpp"

namespace pressure {
namespace {

bool blocked(int sig) {
  sigset_t now;
  pthread_sigmask(SIG_BLOCK, nullptr, &now);
  return sigismember(&now, sig) == 1;
}

// 0 if every step held; else the number of the step that did not.
int take_and_restore() {
  if (blocked(SIGTERM) || blocked(SIGHUP)) return 1;
  {
    Result<sys::StopSignals> stop = sys::StopSignals::take({SIGHUP});
    if (!stop) return 2;
    if (!blocked(SIGTERM) || !blocked(SIGINT) || !blocked(SIGHUP)) return 3;
    if (stop->next() != 0) return 4;
    ::kill(::getpid(), SIGHUP);  // to ourselves, whom it would end were it not taken
    if (stop->wait() != SIGHUP) return 5;
    if (stop->stop_requested().load()) return 6;  // a reload is no stop
    ::kill(::getpid(), SIGTERM);
    if (stop->wait() != SIGTERM) return 7;
    if (!stop->stop_requested().load()) return 8;
  }
  if (blocked(SIGTERM) || blocked(SIGHUP)) return 9;
  return 0;
}

TEST(StopSignals, ASignalArrivesAsAByteAndAFlagAndTheMaskIsRestored) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(std::_Exit(take_and_restore()), testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace pressure
