#include "cli/common.hpp"
