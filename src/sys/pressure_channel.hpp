// The service manager's pressure watch, opened: a kernel pressure file with its trigger written,
// a connected AF_UNIX socket or an open FIFO (or character device), as sd-event opens them.
#pragma once

#include <cstdint>
#include <string_view>

#include <pressure/environment.hpp>

#include "sys/event.hpp"

namespace pressure::sys {

enum class ChannelForm { pressure_file, socket, fifo, device };
std::string_view to_string(ChannelForm form) noexcept;

struct PressureChannel {
  OwnedFd fd;
  ChannelForm form = ChannelForm::pressure_file;
  std::uint32_t events = 0;  // for epoll: k_priority (a pressure file) or k_readable
};

// Opens request.path (state watch) and writes request.write to it at once. A regular file must
// be a procfs or cgroup2 pressure file and needs a trigger to write; a socket is connected as
// SOCK_STREAM, or SOCK_SEQPACKET when the listener is one. Errors name the variable.
Result<PressureChannel> open_channel(const EnvironmentWatch& request);

enum class ChannelSignal {
  none,      // nothing for the caller (e.g. a wakeup with no data left)
  pressure,  // the service manager (or the kernel) signalled pressure
  closed,    // the other side hung up or the cgroup is gone: the watch has ended
};
// What `events` from epoll mean for the channel; reads and discards queued data (sockets,
// FIFOs), as the protocol asks.
ChannelSignal take_signal(const PressureChannel& channel, std::uint32_t events);

}  // namespace pressure::sys
