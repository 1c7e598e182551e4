// Text from outside (cgroup names, paths, rule names) made safe to print on a terminal or in a
// log line: a name cannot start a new line that looks like ours, move the cursor, or change
// the terminal's colours. Pure string work.
//
//   fmt::print("{}\n", core::printable(cgroup_name));   // "/evil\x0a<4>kill" stays one line
#pragma once

#include <string>
#include <string_view>

namespace pressure::core {

// `text` with every control character (C0, DEL, C1) and every byte that is not part of valid
// UTF-8 written as \xNN, the way systemd escapes unit names; everything else, backslashes and
// printable UTF-8 included, unchanged.
std::string printable(std::string_view text);

// The length of the valid UTF-8 sequence that starts at `text[at]` (1 to 4; overlong forms,
// surrogates and code points above U+10FFFF are not valid), with its code point in `code`; 0
// when the byte there does not start one.
std::size_t utf8_sequence(std::string_view text, std::size_t at, char32_t* code);

}  // namespace pressure::core
