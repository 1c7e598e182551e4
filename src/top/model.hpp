// What `pressure top` shows, without the terminal: rows for the system's lines and for every
// cgroup, shares over the last interval from `total` deltas, a minute of history per row, the
// sort key, the name filter, pause; and the screen laid out as lines of text. The ncurses view
// (screen.hpp) only draws these lines and passes keys in, so all of this is unit-tested.
//
//   Model model;
//   model.update(system_snapshot, scan_cgroups("/", {.recursive = true}).value());
//   model.key('m');                         // sort by memory (some)
//   for (auto& line : layout(model, {.width = 80, .height = 24}).lines) puts(line.c_str());
#pragma once

#include <array>
#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include <pressure/reader.hpp>

namespace pressure::top {

// A resource and line: what rows are sorted by and what the sparklines show.
struct Key {
  Resource resource = Resource::cpu;
  Line line = Line::some;
  friend bool operator==(Key, Key) = default;
};
// The lines the kernel can have (irq has only `full`), in Tab order.
inline constexpr std::array<Key, 7> k_keys{
    Key{Resource::cpu, Line::some},    Key{Resource::cpu, Line::full}, Key{Resource::memory, Line::some},
    Key{Resource::memory, Line::full}, Key{Resource::io, Line::some},  Key{Resource::io, Line::full},
    Key{Resource::irq, Line::full}};
std::size_t index_of(Key key);  // 0..7 (resource * 2 + line)
std::string key_name(Key key);  // "memory full"

struct Row {
  std::string name;                             // "system" or "/a/b"
  std::string shown;                            // the group's short name (identify_cgroup) or path
  std::array<double, 8> share{};                // percent over the last interval; NaN unknown
  std::array<std::optional<Percent>, 8> avg10;  // the kernel's 10 s average, when present
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::array<double, 8>>> history;
  // The previous reading, for the next shares.
  std::optional<Snapshot> previous;
};

class Model {
 public:
  explicit Model(std::chrono::steady_clock::duration span = std::chrono::seconds(60)) : m_span(span) {}

  // A new reading of the system and of the cgroups; groups no longer present are dropped.
  void update(const Snapshot& system, const std::vector<CgroupSnapshot>& groups);

  // A key pressed. Returns false for quit. While editing the filter, printable keys go to it,
  // Enter keeps it, Escape restores the previous one, Backspace deletes.
  bool key(int ch);
  static constexpr int k_enter = '\n', k_escape = 27, k_backspace = 127, k_tab = '\t';

  Key sort() const { return m_sort; }
  void set_sort(Key key) { m_sort = key; }
  const std::string& filter() const { return m_filter; }
  void set_filter(std::string filter) { m_filter = std::move(filter); }
  bool editing_filter() const { return m_editing; }
  bool paused() const { return m_paused; }
  bool has_system() const { return m_system.has_value(); }
  const Row& system() const { return *m_system; }
  // The cgroups passing the filter, most stalled on the sort key first.
  std::vector<const Row*> cgroups() const;
  std::size_t cgroup_count() const { return m_groups.size(); }
  // The last minute of `key` for `row`, `width` characters: unicode blocks ▁..█ or ASCII,
  // scaled 0..100 %, oldest on the left; blank under 0.5 % and where there is no reading yet.
  std::string sparkline(const Row& row, Key key, std::size_t width, bool utf8) const;

 private:
  void update_row(Row& row, const Snapshot& snapshot);
  std::chrono::steady_clock::duration m_span;
  std::optional<Row> m_system;
  std::vector<Row> m_groups;
  Key m_sort{};
  std::string m_filter, m_filter_before;
  bool m_editing = false;
  bool m_paused = false;
};

struct LayoutOptions {
  std::size_t width = 80;
  std::size_t height = 24;  // 0: as many lines as there are rows (the plain-text fallback)
  bool utf8 = false;
  std::string clock;  // shown in the title, e.g. "23:59:01"
  double interval = 1.0;
  bool full_names = false;  // widen instead of cutting names (the plain-text fallback)
};

struct Screen {
  std::vector<std::string> lines;       // each at most `width` columns
  std::vector<std::size_t> emphasized;  // indexes of title and header lines
};
Screen layout(const Model& model, const LayoutOptions& options);

// Display columns of UTF-8 text (every code point is one column here).
std::size_t columns(std::string_view text);

}  // namespace pressure::top
