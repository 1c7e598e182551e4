// The daemon keeping itself alive and responsive when memory is short: its pages locked in
// memory, and out of the kernel OOM killer's reach. Linux only (built into the daemon library).
//
//   if (auto locked = sys::lock_memory(); !locked) log(locked.error().message());
//   if (auto adj = sys::shield_from_oom_killer(); adj) log("oom_score_adj " + std::to_string(*adj));
#pragma once

#include <cstdint>

#include <pressure/error.hpp>

namespace pressure::sys {

// What lock_memory() managed.
enum class MemoryLock {
  all,           // every page mapped now is resident and locked; later ones are locked as touched
  current_only,  // only the pages mapped now (a finite RLIMIT_MEMLOCK without CAP_IPC_LOCK: locking
                 // future mappings would make a later mmap, a thread's stack or malloc, fail)
};

// mlockall(MCL_CURRENT), which faults in and locks the program's text, its libraries and the
// memory it has now, then mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT), so memory mapped
// later (thread stacks, malloc arenas) is locked only where it is touched. Locks are not
// inherited across fork and end at exec. Errc::permission or Errc::system (ENOMEM under
// RLIMIT_MEMLOCK) when even the first call fails; nothing is locked then.
Result<MemoryLock> lock_memory();

// Lowers /proc/self/oom_score_adj to -1000 when it is 0 (nobody chose a value for us); a value
// someone set (systemd's OOMScoreAdjust=, an administrator) is kept. Returns the value now in
// force. Errc::permission when lowering needs CAP_SYS_RESOURCE we do not have.
Result<int> shield_from_oom_killer();

// Raises the soft RLIMIT_NOFILE to the hard limit (no privilege needed): the daemon keeps a
// pressure file and often a trigger open per rule and reads cgroups when it acts, and the common
// soft limit of 1024 runs out at a few hundred rules. Returns the soft limit now in force.
Result<std::uint64_t> raise_open_file_limit();

// Puts the calling thread (the daemon's event loop) under SCHED_FIFO at priority 1, as Android's
// lmkd does, with SCHED_RESET_ON_FORK so threads and commands started later run as normal
// tasks. A thrashing machine has every CPU busy with reclaim and refaults: a normal task waits
// its turn to notice and to kill, and its own allocations (a /proc read) enter direct reclaim;
// a real-time task runs as soon as it wakes and allocates from the kernel's reserves
// (ALLOC_HARDER). The kernel's real-time throttling (sched_rt_runtime_us) still leaves the
// other tasks 5 % of each CPU should the loop ever spin. Errc::permission without
// CAP_SYS_NICE or an RLIMIT_RTPRIO of at least 1 (systemd: RestrictRealtime=yes forbids it).
Result<void> run_in_real_time();

// This process's resident and locked memory in bytes (VmRSS, VmLck of /proc/self/status).
struct OwnMemory {
  std::uint64_t resident = 0, locked = 0;
};
Result<OwnMemory> own_memory();

}  // namespace pressure::sys
