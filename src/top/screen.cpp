#include "top/screen.hpp"

#include <pressure/cgroup_set.hpp>

#include <langinfo.h>
#include <algorithm>
#include <clocale>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <thread>

#include <curses.h>

#include "top/model.hpp"

namespace pressure::top {
namespace {

using std::chrono::steady_clock;

bool utf8_locale() {
  std::setlocale(LC_ALL, "");
  const char* codeset = nl_langinfo(CODESET);
  return codeset != nullptr && std::string(codeset) == "UTF-8";
}

std::string clock_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buffer[16];
  return std::string(buffer, std::strftime(buffer, sizeof buffer, "%H:%M:%S", &tm));
}

class Source {
 public:
  // `later`: the fd-budget notice is told when the Source ends (after the terminal is restored).
  Source(const TopOptions& options, bool later)
      : m_on_notice(options.on_notice),
        m_later(later),
        m_system(Target::system(), options.reader),
        m_cgroups(options.cgroups.empty() ? std::vector<CgroupSelector>{*parse_cgroup_selector("**")}
                                          : options.cgroups,
                  CgroupSetOptions{options.reader}) {}
  ~Source() { tell(); }
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;

  Result<void> sample(Model& model) {
    Result<Snapshot> system = m_system.snapshot();
    if (!system) return tl::unexpected(system.error());
    // No cgroup2 here (or it cannot be listed): the system alone.
    std::vector<CgroupSnapshot> groups;
    if (Result<CgroupSet::Reading> reading = m_cgroups.update(); reading) {
      groups.reserve((*reading)->groups.size());
      for (const CgroupReading& g : (*reading)->groups) groups.push_back({g.path, g.snapshot});
      if (m_notice.empty() && !(m_notice = m_cgroups.status().notice).empty() && !m_later) tell();
    }
    model.update(*system, groups);
    return {};
  }

 private:
  void tell() {
    if (m_on_notice && !m_notice.empty()) m_on_notice(m_notice);
    m_on_notice = nullptr;
  }

  std::function<void(const std::string&)> m_on_notice;
  bool m_later;
  std::string m_notice;
  Reader m_system;
  CgroupSet m_cgroups;
};

steady_clock::duration period(double seconds) {
  return std::chrono::duration_cast<steady_clock::duration>(std::chrono::duration<double>(seconds));
}

// The terminal, ended on every path out. newterm, not initscr: initscr exits the process when
// TERM names no known terminal; this says so and the caller prints plain text instead.
class Curses {
 public:
  Curses() : m_screen(newterm(nullptr, stdout, stdin)) {}
  ~Curses() {
    if (m_screen == nullptr) return;
    endwin();
    delscreen(m_screen);
  }
  Curses(const Curses&) = delete;
  Curses& operator=(const Curses&) = delete;
  bool ok() const { return m_screen != nullptr; }

 private:
  SCREEN* m_screen;
};

}  // namespace

namespace {

// The model laid out to the terminal's size, emphasized lines in reverse video.
void draw(const Model& model, bool utf8, double interval) {
  int height = 0, width = 0;
  getmaxyx(stdscr, height, width);
  Screen screen = layout(model, {.width = static_cast<std::size_t>(width),
                                 .height = static_cast<std::size_t>(height),
                                 .utf8 = utf8,
                                 .clock = clock_now(),
                                 .interval = interval});
  erase();
  for (std::size_t i = 0; i < screen.lines.size(); ++i) {
    bool strong = std::find(screen.emphasized.begin(), screen.emphasized.end(), i) != screen.emphasized.end();
    if (strong) attron(A_REVERSE);
    mvaddstr(static_cast<int>(i), 0, screen.lines[i].c_str());
    if (strong) attroff(A_REVERSE);
  }
  refresh();
}

}  // namespace

Result<void> run_terminal(const TopOptions& options, const std::atomic<bool>& stop) {
  bool utf8 = utf8_locale();
  Model model;
  Source source(options, true);
  if (auto r = source.sample(model); !r) return r;  // before the screen: errors stay readable
  std::optional<Curses> curses;
  curses.emplace();
  if (!curses->ok()) {
    curses.reset();
    return run_plain(options, stop);
  }
  cbreak();
  noecho();
  keypad(stdscr, TRUE);
  curs_set(0);
  set_escdelay(25);
  auto next = steady_clock::now() + period(options.interval);
  bool dirty = true;
  while (!stop.load()) {
    if (steady_clock::now() >= next) {
      next += period(options.interval);
      if (next < steady_clock::now()) next = steady_clock::now() + period(options.interval);
      if (!model.paused()) {
        if (auto r = source.sample(model); !r) return r;
        dirty = true;
      }
    }
    if (dirty) {
      draw(model, utf8, options.interval);
      dirty = false;
    }
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - steady_clock::now()).count();
    timeout(static_cast<int>(std::clamp<long long>(wait, 0, 200)));
    int ch = getch();
    if (ch == ERR) continue;
    if (ch == KEY_RESIZE) {
      dirty = true;
      continue;
    }
    if (ch == KEY_BACKSPACE) ch = Model::k_backspace;
    if (ch == KEY_ENTER) ch = Model::k_enter;
    if (!model.key(ch)) break;
    dirty = true;
  }
  return {};
}

Result<void> run_plain(const TopOptions& options, const std::atomic<bool>& stop) {
  bool utf8 = utf8_locale();
  Model model;
  Source source(options, false);
  if (auto r = source.sample(model); !r) return r;
  auto next = steady_clock::now();
  for (long printed = 0; !options.count || printed < *options.count; ++printed) {
    next += period(options.interval);
    while (!stop.load() && steady_clock::now() < next)
      std::this_thread::sleep_for(
          std::min<steady_clock::duration>(next - steady_clock::now(), std::chrono::milliseconds(100)));
    if (stop.load()) break;
    if (auto r = source.sample(model); !r) return r;
    // Every row, no screen height; at most 20 cgroups, the most stalled.
    Screen screen = layout(model, {.width = 100,
                                   .height = 0,
                                   .utf8 = utf8,
                                   .clock = clock_now(),
                                   .interval = options.interval,
                                   .full_names = true});
    std::size_t shown = 0, header_rows = 0;
    for (const std::string& line : screen.lines) {
      std::string trimmed = line.substr(0, line.find_last_not_of(' ') + 1);
      if (trimmed.rfind("CGROUPS", 0) == 0) header_rows = shown + 1;
      if (header_rows != 0 && shown >= header_rows + 20) break;
      std::printf("%s\n", trimmed.c_str());
      ++shown;
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  return {};
}

}  // namespace pressure::top
