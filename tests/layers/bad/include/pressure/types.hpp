#pragma once
#include <pressure/reader.hpp>
