// A small dependency-free writer of SVG line plots (single plots and grids of small multiples)
// and of CSV tables, for the curves and results that tutorials and the CLI show people.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace tinyrec::cli {

// One line of a plot. x and y must have the same length. Points where x or y is NaN or infinite
// (or y <= 0 on a log axis) are skipped and break the line into pieces.
struct Series {
  std::string label;
  std::vector<double> x, y;
};

struct PlotSpec {
  std::string title, xlabel, ylabel;
  bool log_y = false;
  int width = 640, height = 400;  // pixels
};

// Writes one plot with axes, about five "nice" ticks per axis, a light grid, a legend placed in
// the corner that hides the fewest points, and one colour per distinct series label. Labels are
// XML-escaped. Throws std::invalid_argument on a series whose x and y differ in length, and
// std::runtime_error naming the path if the file cannot be written.
void write_svg_line_plot(const std::string& path, const PlotSpec& spec,
                         const std::vector<Series>& series);

// A grid of plots, `cols` per row, under one title. A label keeps the same colour in every panel,
// so the same model is recognisable across panels.
void write_svg_small_multiples(const std::string& path, const std::string& title,
                               const std::vector<std::pair<PlotSpec, std::vector<Series>>>& panels,
                               int cols);

// The same documents as strings (what the writers above put in their files).
std::string svg_line_plot(const PlotSpec& spec, const std::vector<Series>& series);
std::string svg_small_multiples(const std::string& title,
                                const std::vector<std::pair<PlotSpec, std::vector<Series>>>& panels,
                                int cols);

// Writes a CSV table: the header line, then one line per row. Numbers are written in the shortest
// form that reads back to the same double (NaN as "nan"); header fields containing a comma, quote
// or newline are quoted. Every row must have header.size() values (when a header is given):
// otherwise std::invalid_argument names the row and its line number.
void write_csv(const std::string& path, const std::vector<std::string>& header,
               const std::vector<std::vector<double>>& rows);

// Helpers, exposed for reuse and tests.
std::string xml_escape(const std::string& s);
// Tick positions: about `target` round values (multiples of 1, 2 or 5 times a power of ten) that
// cover [lo, hi]; the first tick is <= lo and the last >= hi.
std::vector<double> nice_ticks(double lo, double hi, int target = 5);

}  // namespace tinyrec::cli
