void run(char* const* argv) { execvp(argv[0], argv); }
