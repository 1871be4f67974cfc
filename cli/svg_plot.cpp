// SVG line plots and CSV tables written by hand: no plotting library, so every tutorial and CLI
// run can leave a picture behind on any machine.
#include "cli/svg_plot.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <stdexcept>

#include "autograd/atomic_file.hpp"

namespace tinyrec::cli {
namespace {

// Ten well-separated colours (the familiar "category10" set); after ten, dash patterns vary too.
constexpr std::array<const char*, 10> kPalette = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                                  "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                                  "#bcbd22", "#17becf"};
constexpr std::array<const char*, 4> kDashes = {"", "7 3", "2 2", "9 3 2 3"};

constexpr double kFontSize = 11;    // tick labels and legend
constexpr double kCharWidth = 6.4;  // rough advance of one character at kFontSize
constexpr double kTitleSize = 14;
constexpr double kSuperTitleSize = 17;

// Locale-independent number formatting (printf would write "0,5" under a German locale).
std::string fixed(double v, int decimals) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  return std::string(buf, r.ptr);
}

std::string general(double v, int precision) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, precision);
  return std::string(buf, r.ptr);
}

std::string shortest(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string px(double v) {
  return fixed(v, 2);
}

// Number of characters (UTF-8 code points) a label will show, for layout estimates.
std::size_t display_length(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

struct Axis {
  double lo = 0, hi = 1;  // plotted units: log10(value) on a log axis
  std::vector<double> ticks;
  std::vector<std::string> labels;
};

Axis linear_axis(double mn, double mx, bool have_data) {
  if (!have_data) mn = 0, mx = 1;
  if (mn == mx) {
    const double d = mn == 0 ? 1.0 : std::abs(mn) * 0.1;
    mn -= d;
    mx += d;
  }
  Axis a;
  a.ticks = nice_ticks(mn, mx, 5);
  a.lo = a.ticks.front();
  a.hi = a.ticks.back();
  const double step = a.ticks[1] - a.ticks[0];
  const double big = std::max(std::abs(a.lo), std::abs(a.hi));
  const bool scientific = big >= 1e6 || step < 1e-4;
  const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
  for (double t : a.ticks) a.labels.push_back(scientific ? general(t, 3) : fixed(t, decimals));
  return a;
}

Axis log_axis(double mn, double mx, bool have_data) {
  if (!have_data) mn = 0, mx = 1;
  Axis a;
  a.lo = std::floor(mn + 1e-9);
  a.hi = std::ceil(mx - 1e-9);
  if (a.hi <= a.lo) a.hi = a.lo + 1;
  const int decades = static_cast<int>(a.hi - a.lo);
  if (decades >= 2) {
    const int stride = (decades + 5) / 6;
    for (int e = 0; e <= decades; e += stride) a.ticks.push_back(a.lo + e);
    if (a.ticks.back() < a.hi) a.ticks.push_back(a.hi);
  } else {
    // Within one decade, powers of ten alone would give two ticks; add 2x and 5x.
    for (double m : {1.0, 2.0, 5.0, 10.0}) a.ticks.push_back(a.lo + std::log10(m));
  }
  for (double t : a.ticks) a.labels.push_back(general(std::pow(10.0, t), 6));
  return a;
}

struct Frame {
  double left, right, top, bottom;
  double x_of(const Axis& ax, double v) const {
    return left + (v - ax.lo) / (ax.hi - ax.lo) * (right - left);
  }
  double y_of(const Axis& ay, double v) const {
    return bottom - (v - ay.lo) / (ay.hi - ay.lo) * (bottom - top);
  }
};

bool usable(double x, double y, bool log_y) {
  return std::isfinite(x) && std::isfinite(y) && (!log_y || y > 0);
}

// Pieces of a series between skipped points, each a list of point indices. Long runs of points
// falling in the same pixel column are thinned to their first, lowest, highest and last points,
// which draws the same picture with far fewer coordinates.
std::vector<std::vector<std::size_t>> pieces_of(const Series& s, bool log_y, const Frame& f,
                                                const Axis& ax) {
  std::vector<std::vector<std::size_t>> pieces;
  std::vector<std::size_t> cur;
  std::size_t first = 0, lowest = 0, highest = 0, last = 0;
  long column = 0;
  bool in_run = false;
  auto flush_run = [&]() {
    if (!in_run) return;
    std::array<std::size_t, 4> keep = {first, lowest, highest, last};
    std::sort(keep.begin(), keep.end());
    for (std::size_t k = 0; k < keep.size(); ++k) {
      if (k == 0 || keep[k] != keep[k - 1]) cur.push_back(keep[k]);
    }
    in_run = false;
  };
  auto end_piece = [&]() {
    flush_run();
    if (!cur.empty()) pieces.push_back(std::move(cur));
    cur.clear();
  };
  for (std::size_t i = 0; i < s.x.size(); ++i) {
    if (!usable(s.x[i], s.y[i], log_y)) {
      end_piece();
      continue;
    }
    const long c = std::lround(std::floor(f.x_of(ax, s.x[i])));
    if (in_run && c == column) {
      if (s.y[i] < s.y[lowest]) lowest = i;
      if (s.y[i] > s.y[highest]) highest = i;
      last = i;
    } else {
      flush_run();
      in_run = true;
      column = c;
      first = lowest = highest = last = i;
    }
  }
  end_piece();
  return pieces;
}

struct LegendEntry {
  std::string label;
  const char* colour;
  const char* dash;
};

void line_style(std::string& out, const char* colour, const char* dash, double width) {
  out += " fill=\"none\" stroke=\"";
  out += colour;
  out += "\" stroke-width=\"" + px(width) + "\" stroke-linejoin=\"round\" stroke-linecap=\"round\"";
  if (dash[0] != '\0') out += std::string(" stroke-dasharray=\"") + dash + "\"";
}

void text(std::string& out, double x, double y, const std::string& s, const char* anchor,
          double size, const std::string& extra = "") {
  out += "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\" text-anchor=\"" + anchor +
         "\" font-size=\"" + px(size) + "\"" + extra + ">" + xml_escape(s) + "</text>\n";
}

// Draws one plot in its own coordinate box [0, width] x [0, height].
void render_panel(std::string& out, const PlotSpec& spec, const std::vector<Series>& series,
                  const std::map<std::string, std::size_t>& colour_index, const std::string& id) {
  if (spec.width < 160 || spec.height < 120) {
    throw std::invalid_argument("svg plot '" + spec.title + "': size " +
                                std::to_string(spec.width) + "x" + std::to_string(spec.height) +
                                " is too small (minimum 160x120)");
  }
  double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
  for (const Series& s : series) {
    if (s.x.size() != s.y.size()) {
      throw std::invalid_argument("svg plot '" + spec.title + "': series '" + s.label + "' has " +
                                  std::to_string(s.x.size()) + " x values but " +
                                  std::to_string(s.y.size()) + " y values");
    }
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!usable(s.x[i], s.y[i], spec.log_y)) continue;
      const double y = spec.log_y ? std::log10(s.y[i]) : s.y[i];
      xmin = std::min(xmin, s.x[i]);
      xmax = std::max(xmax, s.x[i]);
      ymin = std::min(ymin, y);
      ymax = std::max(ymax, y);
    }
  }
  const bool have_data = xmin <= xmax;
  const Axis ax = linear_axis(xmin, xmax, have_data);
  const Axis ay = spec.log_y ? log_axis(ymin, ymax, have_data) : linear_axis(ymin, ymax, have_data);

  std::size_t ylabel_chars = 0;
  for (const auto& l : ay.labels) ylabel_chars = std::max(ylabel_chars, display_length(l));
  Frame f;
  f.left = (spec.ylabel.empty() ? 10.0 : 30.0) + kCharWidth * ylabel_chars + 8;
  // The last x tick label is centred on the frame's right edge: leave room for its right half.
  f.right = spec.width - std::max(16.0, kCharWidth * display_length(ax.labels.back()) / 2 + 6);
  f.top = spec.title.empty() ? 14.0 : 36.0;
  f.bottom = spec.height - (spec.xlabel.empty() ? 26.0 : 46.0);

  // Grid and tick labels.
  out += "<g stroke=\"#e6e6e6\" stroke-width=\"1\">\n";
  for (double t : ax.ticks) {
    const double x = f.x_of(ax, t);
    out += "<line x1=\"" + px(x) + "\" y1=\"" + px(f.top) + "\" x2=\"" + px(x) + "\" y2=\"" +
           px(f.bottom) + "\"/>\n";
  }
  for (double t : ay.ticks) {
    const double y = f.y_of(ay, t);
    out += "<line x1=\"" + px(f.left) + "\" y1=\"" + px(y) + "\" x2=\"" + px(f.right) + "\" y2=\"" +
           px(y) + "\"/>\n";
  }
  out += "</g>\n<g fill=\"#333333\">\n";
  for (std::size_t i = 0; i < ax.ticks.size(); ++i) {
    text(out, f.x_of(ax, ax.ticks[i]), f.bottom + 15, ax.labels[i], "middle", kFontSize);
  }
  for (std::size_t i = 0; i < ay.ticks.size(); ++i) {
    text(out, f.left - 6, f.y_of(ay, ay.ticks[i]) + 4, ay.labels[i], "end", kFontSize);
  }
  out += "</g>\n";
  out += "<rect x=\"" + px(f.left) + "\" y=\"" + px(f.top) + "\" width=\"" + px(f.right - f.left) +
         "\" height=\"" + px(f.bottom - f.top) + "\" fill=\"none\" stroke=\"#444444\"/>\n";

  // Series, clipped to the frame.
  out += "<clipPath id=\"" + id + "-clip\"><rect x=\"" + px(f.left) + "\" y=\"" + px(f.top) +
         "\" width=\"" + px(f.right - f.left) + "\" height=\"" + px(f.bottom - f.top) +
         "\"/></clipPath>\n";
  out += "<g clip-path=\"url(#" + id + "-clip)\">\n";
  std::vector<LegendEntry> legend;
  std::vector<std::pair<double, double>> occupied;  // pixel positions the legend should avoid
  for (const Series& s : series) {
    const std::size_t ci = colour_index.at(s.label);
    const char* colour = kPalette[ci % kPalette.size()];
    const char* dash = kDashes[(ci / kPalette.size()) % kDashes.size()];
    const auto pieces = pieces_of(s, spec.log_y, f, ax);
    auto point = [&](std::size_t i) {
      const double y = spec.log_y ? std::log10(s.y[i]) : s.y[i];
      return std::make_pair(f.x_of(ax, s.x[i]), f.y_of(ay, y));
    };
    std::string d, dots;
    for (const auto& piece : pieces) {
      if (piece.size() == 1) {
        const auto [x, y] = point(piece[0]);
        dots += "<circle cx=\"" + px(x) + "\" cy=\"" + px(y) + "\" r=\"2.5\" fill=\"" + colour +
                "\"/>\n";
        occupied.emplace_back(x, y);
        continue;
      }
      for (std::size_t k = 0; k < piece.size(); ++k) {
        const auto [x, y] = point(piece[k]);
        d += (k == 0 ? (d.empty() ? "M" : " M") : " L") + px(x) + " " + px(y);
        occupied.emplace_back(x, y);
        if (k > 0) {  // segment interiors count too, so long straight lines are avoided
          const auto [x0, y0] = point(piece[k - 1]);
          for (double t : {0.25, 0.5, 0.75}) {
            occupied.emplace_back(x0 + t * (x - x0), y0 + t * (y - y0));
          }
        }
      }
    }
    if (!d.empty()) {
      out += "<path d=\"" + d + "\"";
      line_style(out, colour, dash, 1.8);
      out += "/>\n";
    }
    out += dots;
    if (!s.label.empty()) {
      legend.push_back({pieces.empty() ? s.label + " (no data)" : s.label, colour, dash});
    }
  }
  out += "</g>\n";
  if (!have_data) {
    text(out, (f.left + f.right) / 2, (f.top + f.bottom) / 2, "no data", "middle", kTitleSize,
         " fill=\"#888888\"");
  }

  // Legend, in the corner of the frame that covers the fewest drawn points.
  if (!legend.empty()) {
    std::size_t chars = 0;
    for (const auto& e : legend) chars = std::max(chars, display_length(e.label));
    const double row = 15, w = 6 + 22 + 6 + kCharWidth * chars + 6, h = 5 + row * legend.size() + 3;
    const double inset = 8;
    const std::array<std::pair<double, double>, 4> corners = {{
        {f.right - inset - w, f.top + inset},         // top right
        {f.left + inset, f.top + inset},              // top left
        {f.right - inset - w, f.bottom - inset - h},  // bottom right
        {f.left + inset, f.bottom - inset - h},       // bottom left
    }};
    std::size_t best = 0, best_count = SIZE_MAX;
    for (std::size_t c = 0; c < corners.size(); ++c) {
      const auto [lx, ly] = corners[c];
      std::size_t count = 0;
      for (const auto& [x, y] : occupied) count += x >= lx && x <= lx + w && y >= ly && y <= ly + h;
      if (count < best_count) best = c, best_count = count;
    }
    const auto [lx, ly] = corners[best];
    out += "<g>\n<rect x=\"" + px(lx) + "\" y=\"" + px(ly) + "\" width=\"" + px(w) +
           "\" height=\"" + px(h) +
           "\" rx=\"3\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#cccccc\"/>\n";
    for (std::size_t i = 0; i < legend.size(); ++i) {
      const double y = ly + 5 + row * i + row / 2;
      out += "<line x1=\"" + px(lx + 6) + "\" y1=\"" + px(y) + "\" x2=\"" + px(lx + 28) +
             "\" y2=\"" + px(y) + "\"";
      line_style(out, legend[i].colour, legend[i].dash, 2.2);
      out += "/>\n";
      text(out, lx + 34, y + 4, legend[i].label, "start", kFontSize, " fill=\"#222222\"");
    }
    out += "</g>\n";
  }

  if (!spec.title.empty()) {
    text(out, (f.left + f.right) / 2, 22, spec.title, "middle", kTitleSize,
         " font-weight=\"bold\" fill=\"#222222\"");
  }
  if (!spec.xlabel.empty()) {
    text(out, (f.left + f.right) / 2, spec.height - 10.0, spec.xlabel, "middle", kFontSize + 1,
         " fill=\"#222222\"");
  }
  if (!spec.ylabel.empty()) {
    const double cy = (f.top + f.bottom) / 2;
    text(out, 0, 0, spec.ylabel, "middle", kFontSize + 1,
         " fill=\"#222222\" transform=\"translate(16 " + px(cy) + ") rotate(-90)\"");
  }
}

std::string svg_open(int width, int height) {
  const std::string w = std::to_string(width), h = std::to_string(height);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + w + "\" height=\"" + h +
         "\" viewBox=\"0 0 " + w + " " + h +
         "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
         "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
}

// Colours follow labels in order of first appearance, so a label looks the same everywhere.
void assign_colours(const std::vector<Series>& series, std::map<std::string, std::size_t>& index) {
  for (const Series& s : series) index.emplace(s.label, index.size());
}

void write_text_file(const std::string& path, const std::string& content, const char* what) {
  try {
    write_text_atomically(path, content);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string(what) + ": " + e.what());
  }
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

std::string xml_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) {
    throw std::invalid_argument("nice_ticks: range [" + shortest(lo) + ", " + shortest(hi) +
                                "] is not finite");
  }
  if (hi < lo) std::swap(lo, hi);
  if (hi == lo) {
    const double d = lo == 0 ? 1.0 : std::abs(lo) * 0.1;
    lo -= d;
    hi += d;
  }
  target = std::max(target, 2);
  const double base = std::pow(10.0, std::floor(std::log10((hi - lo) / target)));
  double best_step = 0;
  long best_first = 0, best_last = 0;
  long best_miss = -1;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    const double step = m * base;
    // The small slack keeps 0.3 / 0.1 = 2.9999999999999996 from adding a tick below 0.3.
    const long first = std::lround(std::floor(lo / step + 1e-9));
    const long last = std::lround(std::ceil(hi / step - 1e-9));
    const long miss = std::abs(last - first + 1 - target);
    // Between equally good tick counts, the axis that wastes less space wins.
    const double span = static_cast<double>(last - first) * step;
    const double best_span = static_cast<double>(best_last - best_first) * best_step;
    if (best_miss < 0 || miss < best_miss || (miss == best_miss && span < best_span)) {
      best_step = step, best_first = first, best_last = last, best_miss = miss;
    }
  }
  std::vector<double> ticks;
  for (long i = best_first; i <= best_last; ++i) {
    const double t = static_cast<double>(i) * best_step;
    ticks.push_back(std::abs(t) < best_step * 1e-9 ? 0.0 : t);
  }
  return ticks;
}

std::string svg_line_plot(const PlotSpec& spec, const std::vector<Series>& series) {
  std::map<std::string, std::size_t> colours;
  assign_colours(series, colours);
  std::string out = svg_open(spec.width, spec.height);
  render_panel(out, spec, series, colours, "p0");
  return out + "</svg>\n";
}

std::string svg_small_multiples(const std::string& title,
                                const std::vector<std::pair<PlotSpec, std::vector<Series>>>& panels,
                                int cols) {
  if (cols < 1) {
    throw std::invalid_argument("svg_small_multiples: cols is " + std::to_string(cols) +
                                "; it must be at least 1");
  }
  std::map<std::string, std::size_t> colours;
  int cell_w = 160, cell_h = 120;
  for (const auto& [spec, series] : panels) {
    assign_colours(series, colours);
    cell_w = std::max(cell_w, spec.width);
    cell_h = std::max(cell_h, spec.height);
  }
  const int n = static_cast<int>(panels.size());
  const int used_cols = std::max(1, std::min(cols, n));
  const int rows = std::max(1, (n + cols - 1) / cols);
  const int head = title.empty() ? 0 : 40;
  const int width = used_cols * cell_w, height = head + rows * cell_h;
  std::string out = svg_open(width, height);
  if (!title.empty()) {
    text(out, width / 2.0, 27, title, "middle", kSuperTitleSize,
         " font-weight=\"bold\" fill=\"#111111\"");
  }
  for (int i = 0; i < n; ++i) {
    const int r = i / cols, c = i % cols;
    out += "<g transform=\"translate(" + std::to_string(c * cell_w) + " " +
           std::to_string(head + r * cell_h) + ")\">\n";
    render_panel(out, panels[i].first, panels[i].second, colours, "p" + std::to_string(i));
    out += "</g>\n";
  }
  return out + "</svg>\n";
}

void write_svg_line_plot(const std::string& path, const PlotSpec& spec,
                         const std::vector<Series>& series) {
  write_text_file(path, svg_line_plot(spec, series), "write_svg_line_plot");
}

void write_svg_small_multiples(const std::string& path, const std::string& title,
                               const std::vector<std::pair<PlotSpec, std::vector<Series>>>& panels,
                               int cols) {
  write_text_file(path, svg_small_multiples(title, panels, cols), "write_svg_small_multiples");
}

void write_csv(const std::string& path, const std::vector<std::string>& header,
               const std::vector<std::vector<double>>& rows) {
  std::string out;
  const std::size_t width = header.empty() ? (rows.empty() ? 0 : rows[0].size()) : header.size();
  for (std::size_t i = 0; i < header.size(); ++i) {
    out += (i ? "," : "") + csv_field(header[i]);
  }
  if (!header.empty()) out += "\n";
  const std::size_t first_line = header.empty() ? 1 : 2;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (rows[r].size() != width) {
      throw std::invalid_argument("write_csv '" + path + "': row " + std::to_string(r) + " (line " +
                                  std::to_string(first_line + r) + ") has " +
                                  std::to_string(rows[r].size()) + " values, expected " +
                                  std::to_string(width));
    }
    for (std::size_t i = 0; i < rows[r].size(); ++i) out += (i ? "," : "") + shortest(rows[r][i]);
    out += "\n";
  }
  write_text_file(path, out, "write_csv");
}

}  // namespace tinyrec::cli
