// Tests for the SVG plot and CSV writers: tick choice, escaping, one path per series, coordinate
// mapping, NaN handling, small multiples and the files themselves.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "cli/svg_plot.hpp"

namespace fs = std::filesystem;
using namespace tinyrec::cli;

namespace {

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("tinyrec_test_svg_" + name)).string();
}

// The value of attribute `name` in the first element after position `from` that has it.
std::string attr(const std::string& svg, std::size_t from, const std::string& name) {
  const std::string key = " " + name + "=\"";
  const std::size_t p = svg.find(key, from);
  REQUIRE(p != std::string::npos);
  const std::size_t start = p + key.size();
  return svg.substr(start, svg.find('"', start) - start);
}

void check_vectors(const std::vector<double>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]));
}

}  // namespace

TEST_CASE("nice_ticks picks about five round values that cover the range") {
  // Step 0.2 gives 6 ticks; 0.1 would give 11 and 0.5 only 3.
  check_vectors(nice_ticks(0, 1), {0, 0.2, 0.4, 0.6, 0.8, 1.0});
  // [0.23, 0.69]: step 0.1 from 0.2 to 0.7.
  check_vectors(nice_ticks(0.23, 0.69), {0.2, 0.3, 0.4, 0.5, 0.6, 0.7});
  // Exactly on round values: no extra tick outside.
  check_vectors(nice_ticks(0.3, 0.7), {0.3, 0.4, 0.5, 0.6, 0.7});
  check_vectors(nice_ticks(0, 3000), {0, 1000, 2000, 3000});
  // Steps 5 and 10 both miss five ticks by one; the tighter axis (-10..15, not -10..20) wins.
  check_vectors(nice_ticks(-7, 12), {-10, -5, 0, 5, 10, 15});
  // A zero-width range is widened rather than failing.
  check_vectors(nice_ticks(2, 2), {1.8, 1.9, 2.0, 2.1, 2.2});
  CHECK_THROWS_AS(nice_ticks(0, INFINITY), std::invalid_argument);
}

TEST_CASE("xml_escape") {
  CHECK(xml_escape("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
  CHECK(xml_escape("plain") == "plain");
}

TEST_CASE("svg_line_plot: structure, escaping and one path per series") {
  const std::vector<Series> series = {
      {"Base & <DIN>", {0, 1, 2, 3}, {0.5, 0.6, 0.7, 0.8}},
      {"DIN", {0, 1, 2, 3, 4}, {0.4, 0.45, NAN, 0.6, 0.7}},  // the NaN splits the line in two
      {"MMoE", {0, 2}, {0.3, 0.9}},
  };
  const PlotSpec spec{"AUC \"test\"", "step", "AUC", false, 640, 400};
  const std::string svg = svg_line_plot(spec, series);

  CHECK(svg.rfind("<svg ", 0) == 0);
  CHECK(svg.substr(svg.size() - 7) == "</svg>\n");
  CHECK(count(svg, "<g") == count(svg, "</g>"));
  CHECK(count(svg, "<path ") == 3);
  CHECK(svg.find(">Base &amp; &lt;DIN&gt;</text>") != std::string::npos);
  CHECK(svg.find(">AUC &quot;test&quot;</text>") != std::string::npos);
  CHECK(svg.find("<DIN>") == std::string::npos);
  CHECK(svg.find(">step</text>") != std::string::npos);

  // Three different colours, in series order.
  std::vector<std::string> strokes;
  for (std::size_t p = svg.find("<path "); p != std::string::npos; p = svg.find("<path ", p + 1)) {
    strokes.push_back(attr(svg, p, "stroke"));
  }
  REQUIRE(strokes.size() == 3);
  CHECK(strokes[0] != strokes[1]);
  CHECK(strokes[1] != strokes[2]);
  CHECK(strokes[0] != strokes[2]);

  // The DIN path has two pieces (two move-to commands); nan never reaches the document.
  const std::size_t din = svg.find("<path ", svg.find("<path ") + 1);
  CHECK(count(attr(svg, din, "d"), "M") == 2);
  CHECK(svg.find("nan") == std::string::npos);
}

TEST_CASE("svg_line_plot: data map to the frame corners") {
  // Ticks for [0, 1] are 0 .. 1 exactly, so (0, 0) is the frame's bottom-left corner and (1, 1)
  // its top-right corner.
  const std::string svg =
      svg_line_plot({"", "", "", false, 400, 300}, {{"diagonal", {0, 1}, {0, 1}}});
  const std::size_t frame = svg.find("<rect x=", svg.find("</g>"));
  const double x = std::stod(attr(svg, frame, "x")), y = std::stod(attr(svg, frame, "y"));
  const double w = std::stod(attr(svg, frame, "width")), h = std::stod(attr(svg, frame, "height"));
  double x0, y0, x1, y1;
  const std::string d = attr(svg, svg.find("<path "), "d");
  REQUIRE(std::sscanf(d.c_str(), "M%lf %lf L%lf %lf", &x0, &y0, &x1, &y1) == 4);
  CHECK(x0 == doctest::Approx(x));
  CHECK(y0 == doctest::Approx(y + h));
  CHECK(x1 == doctest::Approx(x + w));
  CHECK(y1 == doctest::Approx(y));
}

TEST_CASE("svg_line_plot: log axis, empty series and missing data") {
  // On a log axis, non-positive values are skipped; ticks label powers of ten.
  const std::string log_svg =
      svg_line_plot({"loss", "step", "loss", true, 640, 400},
                    {{"train", {0, 1, 2, 3, 4}, {1.0, 0.5, -1.0, 0.01, 0.001}}});
  CHECK(log_svg.find(">0.001</text>") != std::string::npos);
  CHECK(log_svg.find(">1</text>") != std::string::npos);
  CHECK(count(attr(log_svg, log_svg.find("<path "), "d"), "M") == 2);

  // An empty series gets no path but keeps its legend entry; nothing at all says "no data".
  const std::string empty = svg_line_plot({"t", "x", "y", false, 320, 200}, {{"a", {}, {}}});
  CHECK(count(empty, "<path ") == 0);
  CHECK(empty.find(">a (no data)</text>") != std::string::npos);
  CHECK(empty.find(">no data</text>") != std::string::npos);

  // A single usable point is drawn as a dot.
  const std::string dot =
      svg_line_plot({"t", "x", "y", false, 320, 200}, {{"one", {1, 2}, {NAN, 3}}});
  CHECK(count(dot, "<circle ") == 1);

  CHECK_THROWS_WITH_AS(svg_line_plot({}, {{"bad", {1, 2}, {1}}}),
                       doctest::Contains("series 'bad' has 2 x values but 1 y values"),
                       std::invalid_argument);
}

TEST_CASE("svg_small_multiples: grid size, unique clip ids, colours follow labels") {
  const PlotSpec cell{"p", "step", "loss", false, 300, 200};
  std::vector<std::pair<PlotSpec, std::vector<Series>>> panels = {
      {cell, {{"Shared-Bottom", {0, 1}, {1, 0.5}}, {"MMoE", {0, 1}, {1, 0.3}}}},
      {cell, {{"MMoE", {0, 1}, {1, 0.2}}}},
      {cell, {{"OMoE", {0, 1}, {1, 0.4}}}},
  };
  const std::string svg = svg_small_multiples("Loss & correlation", panels, 2);
  // Two columns of 300 px, two rows of 200 px under a 40 px title.
  CHECK(attr(svg, 0, "width") == "600");
  CHECK(attr(svg, 0, "height") == "440");
  CHECK(svg.find(">Loss &amp; correlation</text>") != std::string::npos);
  CHECK(count(svg, "<path ") == 4);
  for (const char* id : {"id=\"p0-clip\"", "id=\"p1-clip\"", "id=\"p2-clip\""}) {
    CHECK(count(svg, id) == 1);
  }
  // MMoE is the second path in panel 0 and the only path in panel 1: same colour.
  const std::size_t first = svg.find("<path ");
  const std::size_t second = svg.find("<path ", first + 1);
  const std::size_t third = svg.find("<path ", second + 1);
  CHECK(attr(svg, second, "stroke") == attr(svg, third, "stroke"));
  CHECK(attr(svg, first, "stroke") != attr(svg, second, "stroke"));

  CHECK_THROWS_AS(svg_small_multiples("t", panels, 0), std::invalid_argument);
}

TEST_CASE("write_svg_line_plot and write_svg_small_multiples write the documents") {
  const std::string path = temp_path("plot.svg");
  const PlotSpec spec{"t", "x", "y", false, 640, 400};
  const std::vector<Series> s = {{"a", {0, 1, 2}, {3, 1, 2}}};
  write_svg_line_plot(path, spec, s);
  CHECK(read_file(path) == svg_line_plot(spec, s));
  write_svg_small_multiples(path, "grid", {{spec, s}}, 3);
  CHECK(read_file(path) == svg_small_multiples("grid", {{spec, s}}, 3));
  fs::remove(path);
  CHECK_THROWS_WITH_AS(write_svg_line_plot(temp_path("no_such_dir/p.svg"), spec, s),
                       ("write_svg_line_plot: cannot write " + temp_path("no_such_dir/p.svg") +
                        ": No such file or directory")
                           .c_str(),
                       std::runtime_error);
}

TEST_CASE("write_csv") {
  const std::string path = temp_path("table.csv");
  write_csv(path, {"step", "loss, train", "say \"hi\""},
            {{0, 0.1, 1.0 / 3}, {1000, NAN, -2.5e-8}, {1e20, 7, 0}});
  CHECK(read_file(path) ==
        "step,\"loss, train\",\"say \"\"hi\"\"\"\n"
        "0,0.1,0.3333333333333333\n"
        "1000,nan,-2.5e-08\n"
        "1e+20,7,0\n");
  CHECK_THROWS_WITH_AS(write_csv(path, {"a", "b"}, {{1, 2}, {3}}),
                       doctest::Contains("row 1 (line 3) has 1 values, expected 2"),
                       std::invalid_argument);
  fs::remove(path);
}
