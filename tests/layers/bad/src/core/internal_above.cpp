#include "core/number.hpp"
#include "sys/files.hpp"
