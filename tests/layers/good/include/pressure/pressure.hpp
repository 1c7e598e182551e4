#pragma once
#include <pressure/error.hpp>
#include <pressure/reader.hpp>
