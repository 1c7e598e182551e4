#include <fcntl.h>
#include <unistd.h>

#include "core/values.hpp"
#include "sys/files.hpp"

int open_file(const char* path) { return ::open(path, O_RDONLY | O_CLOEXEC); }
