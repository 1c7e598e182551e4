// What a configuration needs of this machine beyond its syntax, checked by `--check`, at start and
// at every reload alike, so that `--check` passes exactly what the start accepts:
//   - every exec rule's program is found (as exec will look for it);
//   - every notify file's folder exists, and every notify socket path fits a unix socket address;
//   - the [daemon] listen address is one of this machine's.
//
//   if (Result<void> ok = daemon::preflight(*config); !ok) return report(ok.error());
#pragma once

#include <pressure/error.hpp>

#include "daemon/config.hpp"

namespace pressure::daemon {

// The first problem, as "FILE:LINE: rule 'NAME': ..." (or "[daemon] listen: ...").
Result<void> preflight(const Config& config);

}  // namespace pressure::daemon
