#pragma once
#include "sys/files.hpp"
