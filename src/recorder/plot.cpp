#include "recorder/plot.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <ctime>
#include <map>

#include <fmt/core.h>

namespace pressure::recorder {
namespace {

constexpr double k_width = 960;
constexpr double k_left = 64, k_right = 24;
constexpr double k_panel = 170;  // plot area height
constexpr double k_gap = 54;     // between panels (room for the time labels)
constexpr double k_plot_width = k_width - k_left - k_right;

// Tableau 10: distinct, readable on white, friendly to most colour blindness.
constexpr std::array<const char*, 10> k_colors{"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                               "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

std::string local(std::int64_t us, const char* format) {
  std::time_t t = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buffer[64];
  std::size_t n = std::strftime(buffer, sizeof buffer, format, &tm);
  return std::string(buffer, n);
}

// The smallest of 1, 2, 5 x 10^k percent at or above `percent` (at least 1 %, at most 100 %).
double nice_ceiling(double percent) {
  for (double v : {1.0, 2.0, 5.0, 10.0, 20.0, 25.0, 30.0, 40.0, 50.0, 60.0, 80.0, 100.0})
    if (percent <= v + 1e-9) return v;
  return 100.0;
}

// A time step giving about 4 to 10 labels over `span_us`.
std::int64_t time_step(std::int64_t span_us) {
  static constexpr std::array<std::int64_t, 20> k_steps_s{1,     2,     5,     10,    15,     30,    60,
                                                          120,   300,   600,   900,   1800,   3600,  7200,
                                                          10800, 21600, 43200, 86400, 172800, 604800};
  for (std::int64_t s : k_steps_s)
    if (span_us / (s * 1000000) <= 8) return s * 1000000;
  return k_steps_s.back() * 1000000;
}

struct Panel {
  Resource resource;
  double top;
  double max_percent;
};

// Where everything goes: targets in order of first appearance get the colours; resources in
// their usual order get a panel each.
struct Layout {
  struct LegendItem {
    double x, y;
    std::string target;
  };
  std::vector<std::string> targets;
  std::vector<LegendItem> legend;
  double legend_bottom = 0;  // the baseline of the legend's last row
  std::vector<Panel> panels;
  double panels_top = 0;
  double height = 0;

  const char* color(const std::string& target) const {
    auto at = std::find(targets.begin(), targets.end(), target) - targets.begin();
    return k_colors[static_cast<std::size_t>(at) % k_colors.size()];
  }
};

// Legend rows: swatch + name, wrapped to the width.
void place_legend(Layout& layout) {
  double x = k_left, y = 62;
  for (const std::string& t : layout.targets) {
    double w = 34 + 7.2 * static_cast<double>(std::min<std::size_t>(t.size(), 60));
    if (x + w > k_width - k_right && x > k_left) {
      x = k_left;
      y += 20;
    }
    layout.legend.push_back({x, y, t});
    x += w + 18;
  }
  layout.legend_bottom = y;
}

Layout lay_out(const PlotData& data) {
  Layout layout;
  std::vector<Resource> resources;
  for (const PlotSeries& s : data.series) {
    if (std::find(layout.targets.begin(), layout.targets.end(), s.target) == layout.targets.end())
      layout.targets.push_back(s.target);
    if (std::find(resources.begin(), resources.end(), s.resource) == resources.end())
      resources.push_back(s.resource);
  }
  std::sort(resources.begin(), resources.end());
  place_legend(layout);
  layout.panels_top = layout.legend_bottom + (data.note.empty() ? 30 : 48);
  for (std::size_t i = 0; i < resources.size(); ++i) {
    double max_share = 0;
    for (const PlotSeries& s : data.series)
      if (s.resource == resources[i])
        for (double v : s.shares)
          if (!std::isnan(v)) max_share = std::max(max_share, v);
    layout.panels.push_back({resources[i], layout.panels_top + static_cast<double>(i) * (k_panel + k_gap),
                             nice_ceiling(max_share * 100.0 * 1.05)});
  }
  layout.height = layout.panels.empty() ? layout.panels_top + 80 : layout.panels.back().top + k_panel + 40;
  return layout;
}

void draw_header(std::string& svg, const PlotData& data, const Layout& layout) {
  svg += fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n",
      k_width, layout.height);
  svg += fmt::format("<rect width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n", k_width, layout.height);
  svg += fmt::format(
      "<text class=\"title\" x=\"{}\" y=\"24\" font-size=\"17\" font-weight=\"bold\" "
      "fill=\"#222\">{}</text>\n",
      k_left, xml_escape(data.title));
  svg += fmt::format(
      "<text class=\"subtitle\" x=\"{}\" y=\"42\" fill=\"#555\">share of time stalled, from the kernel's PSI "
      "totals, {} to {} &#8212; solid: some, dashed: full</text>\n",
      k_left, xml_escape(local(data.since_us, "%Y-%m-%d %H:%M:%S")),
      xml_escape(local(data.until_us, "%Y-%m-%d %H:%M:%S")));
  for (const Layout::LegendItem& item : layout.legend) {
    svg += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"3\"/>\n",
                       item.x, item.y - 4, item.x + 24, item.y - 4, layout.color(item.target));
    std::string name = item.target.size() > 60 ? item.target.substr(0, 57) + "..." : item.target;
    svg += fmt::format("<text class=\"legend\" x=\"{}\" y=\"{}\" fill=\"#222\">{}</text>\n", item.x + 30,
                       item.y, xml_escape(name));
  }
  if (!data.note.empty())
    svg += fmt::format("<text class=\"note\" x=\"{}\" y=\"{}\" fill=\"#777\">{}</text>\n", k_left,
                       layout.legend_bottom + 20, xml_escape(data.note));
}

// The time axis: labels on whole steps of local time (so 10-minute ticks fall on :00, :10, ...).
struct TimeAxis {
  std::int64_t since_us, until_us;
  double span;
  std::int64_t step;
  std::int64_t first_tick;
  const char* format;

  explicit TimeAxis(const PlotData& data)
      : since_us(data.since_us),
        until_us(data.until_us),
        span(static_cast<double>(data.until_us - data.since_us)),
        step(time_step(data.until_us - data.since_us)) {
    format = step < 60000000 ? "%H:%M:%S" : step < 86400000000LL ? "%H:%M" : "%m-%d";
    std::time_t first_s = static_cast<std::time_t>(since_us / 1000000);
    std::tm tm{};
    localtime_r(&first_s, &tm);
    std::int64_t offset_us = static_cast<std::int64_t>(tm.tm_gmtoff) * 1000000;
    first_tick = ((since_us + offset_us + step - 1) / step) * step - offset_us;
  }
  double x_of(std::int64_t us) const {
    return k_left + k_plot_width * static_cast<double>(us - since_us) / span;
  }
};

// Percent grid: 4 to 6 steps of a round size; and a line at each time label.
void draw_grid(std::string& svg, const Panel& panel, const TimeAxis& axis) {
  double top = panel.top, bottom = panel.top + k_panel;
  double grid = 0.2;
  for (double g : {0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0})
    if (panel.max_percent / g <= 6.0 + 1e-9) {
      grid = g;
      break;
    }
  int steps = static_cast<int>(std::lround(panel.max_percent / grid));
  for (int k = 0; k <= steps; ++k) {
    double percent = grid * k;
    double gy = bottom - k_panel * percent / panel.max_percent;
    if (k > 0 && k < steps)
      svg += fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#e4e4e4\"/>\n",
                         k_left, gy, k_left + k_plot_width, gy);
    std::string label = std::fabs(percent - std::round(percent)) < 1e-9 ? fmt::format("{:.0f}%", percent)
                                                                        : fmt::format("{:.1f}%", percent);
    svg += fmt::format(
        "<text class=\"y-label\" x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\" fill=\"#555\">{}</text>\n",
        k_left - 6, gy + 4, label);
  }
  for (std::int64_t t = axis.first_tick; t <= axis.until_us; t += axis.step) {
    double tx = axis.x_of(t);
    svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#e4e4e4\"/>\n", tx,
                       top, bottom);
    svg += fmt::format(
        "<text class=\"x-label\" x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">{}</text>\n", tx,
        bottom + 20, local(t, axis.format));
  }
}

// One line of one target: polylines between the gaps (buckets without a value).
void draw_series(std::string& svg, const PlotSeries& s, const Panel& panel, const TimeAxis& axis,
                 const char* color) {
  double bottom = panel.top + k_panel;
  svg += fmt::format(
      "<g class=\"series\" data-target=\"{}\" data-resource=\"{}\" data-line=\"{}\" fill=\"none\" "
      "stroke=\"{}\" "
      "stroke-width=\"{}\" stroke-linejoin=\"round\"{}>\n",
      xml_escape(s.target), to_string(s.resource), to_string(s.line), color,
      s.line == Line::some ? "1.8" : "1.4", s.line == Line::full ? " stroke-dasharray=\"5 3\"" : "");
  double bucket = axis.span / static_cast<double>(s.shares.size());
  std::string points;
  auto flush = [&] {
    if (points.find(' ') != std::string::npos) {
      svg += "<polyline points=\"" + points + "\"/>\n";
    } else if (!points.empty()) {  // a lone bucket between gaps: a dot, or it would not show
      std::size_t comma = points.find(',');
      svg += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"1.8\" fill=\"{}\"/>\n", points.substr(0, comma),
                         points.substr(comma + 1), color);
    }
    points.clear();
  };
  for (std::size_t k = 0; k < s.shares.size(); ++k) {
    double v = s.shares[k];
    if (std::isnan(v)) {
      flush();
      continue;
    }
    double px = k_left + k_plot_width * (static_cast<double>(k) + 0.5) * bucket / axis.span;
    double py = bottom - k_panel * std::min(1.0, v * 100.0 / panel.max_percent);
    points += fmt::format("{}{:.1f},{:.1f}", points.empty() ? "" : " ", px, py);
  }
  flush();
  svg += "</g>\n";
}

void draw_panel(std::string& svg, const PlotData& data, const Layout& layout, const Panel& panel,
                const TimeAxis& axis) {
  svg += fmt::format("<g class=\"panel\" data-resource=\"{}\">\n", to_string(panel.resource));
  svg += fmt::format(
      "<text class=\"panel-title\" x=\"{}\" y=\"{}\" font-size=\"14\" font-weight=\"bold\" "
      "fill=\"#222\">{}</text>\n",
      k_left, panel.top - 8, to_string(panel.resource));
  svg +=
      fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fafafa\" stroke=\"#ccc\"/>\n",
                  k_left, panel.top, k_plot_width, k_panel);
  draw_grid(svg, panel, axis);
  // full first, so the some lines are drawn on top.
  for (Line line : {Line::full, Line::some})
    for (const PlotSeries& s : data.series)
      if (s.resource == panel.resource && s.line == line && !s.shares.empty())
        draw_series(svg, s, panel, axis, layout.color(s.target));
  svg += "</g>\n";
}

}  // namespace

std::string xml_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // Control characters are not allowed in XML 1.0.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n')
          out += '?';
        else
          out += c;
    }
  }
  return out;
}

std::string render_svg(const PlotData& data) {
  Layout layout = lay_out(data);
  std::string svg;
  draw_header(svg, data, layout);
  if (layout.panels.empty() || data.until_us <= data.since_us) {
    svg += fmt::format(
        "<text x=\"{}\" y=\"{}\" font-size=\"15\" fill=\"#777\">no samples in this period</text>\n", k_left,
        layout.panels_top + 30);
    svg += "</svg>\n";
    return svg;
  }
  TimeAxis axis(data);
  for (const Panel& panel : layout.panels) draw_panel(svg, data, layout, panel, axis);
  svg += "</svg>\n";
  return svg;
}

}  // namespace pressure::recorder
