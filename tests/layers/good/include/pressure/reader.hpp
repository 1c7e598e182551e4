#pragma once
#include <pressure/error.hpp>
