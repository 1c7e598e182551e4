#include "../policy/rules.hpp"
