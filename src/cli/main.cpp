#include "cli/cli.hpp"

int main(int argc, char** argv) { return pressure::cli::run(argc, argv); }
