#include <unistd.h>

namespace pressure::policy {
void stop(int pid) { ::kill(pid, 9); }
int peek(const char* path) { return ::open(path, 0); }
}  // namespace pressure::policy
