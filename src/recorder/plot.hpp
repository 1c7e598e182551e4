// A chart of recorded stall shares as SVG, written by hand (no plotting dependency): one panel
// per resource, one colour per target, `some` solid and `full` dashed, time and percent axes,
// a legend and a title.
//
//   PlotData data{"title", since_us, until_us, {{"system", Resource::cpu, Line::some, shares}}};
//   std::string svg = render_svg(data);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <pressure/types.hpp>

namespace pressure::recorder {

struct PlotSeries {
  std::string target;
  Resource resource = Resource::cpu;
  Line line = Line::some;
  std::vector<double> shares;  // 0..1 per equal bucket of [since, until]; NaN: no data (a gap)
};

struct PlotData {
  std::string title;
  std::int64_t since_us = 0, until_us = 0;
  std::vector<PlotSeries> series;
  std::string note;  // a line under the legend, e.g. "3 more targets not shown"
};

// How many buckets a series should have for the chart's width.
inline constexpr std::size_t k_plot_buckets = 400;

std::string render_svg(const PlotData& data);

// "&amp;" etc.: text as it must appear in XML.
std::string xml_escape(std::string_view text);

}  // namespace pressure::recorder
