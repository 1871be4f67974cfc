// Tests for the progress bar with a fake clock: in-place redraws and their throttle on a terminal,
// sparse plain lines elsewhere, and the formatting helpers.
#include <doctest/doctest.h>

#include <algorithm>
#include <sstream>

#include "cli/progress.hpp"

using tinyrec::cli::format_count;
using tinyrec::cli::format_duration;
using tinyrec::cli::ProgressBar;

namespace {

std::size_t count_char(const std::string& s, char c) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), c));
}

}  // namespace

TEST_CASE("format_duration and format_count") {
  CHECK(format_duration(0) == "00:00");
  CHECK(format_duration(59.9) == "00:59");
  CHECK(format_duration(61) == "01:01");
  CHECK(format_duration(3723) == "1:02:03");
  CHECK(format_duration(-1) == "?");
  CHECK(format_count(0) == "0");
  CHECK(format_count(999) == "999");
  CHECK(format_count(1000) == "1,000");
  CHECK(format_count(1234567) == "1,234,567");
}

TEST_CASE("terminal mode redraws in place, throttled, and always draws the final state") {
  std::ostringstream os;
  double t = 0;
  ProgressBar bar("train", 100, os, true, [&] { return t; });
  t = 2.0;
  bar.update(10, "loss 0.5");  // first update: drawn; ETA = 2 s * 90 / 10 = 18 s
  t = 2.05;
  bar.update(20, "skipped");  // 0.05 s after the last draw: throttled
  t = 2.2;
  bar.update(30, "loss 0.4");  // drawn; ETA = 2.2 * 70 / 30 = 5.1 s
  t = 2.25;
  bar.update(100, "loss 0.3");  // only 0.05 s later, but complete: drawn
  t = 3.5;
  bar.finish("done");               // final line shows elapsed only, then a newline
  bar.update(100, "after finish");  // ignored
  bar.finish("again");              // ignored

  CHECK(os.str() ==
        "\rtrain  10% [##..................] 10/100 00:02<00:18 loss 0.5\x1b[K"
        "\rtrain  30% [######..............] 30/100 00:02<00:05 loss 0.4\x1b[K"
        "\rtrain 100% [####################] 100/100 00:02<00:00 loss 0.3\x1b[K"
        "\rtrain 100% [####################] 100/100 00:03 done\x1b[K\n");
}

TEST_CASE("terminal mode: an unfinished bar ends its line when destroyed") {
  std::ostringstream os;
  double t = 0;
  {
    ProgressBar bar("x", 10, os, true, [&] { return t; });
    bar.update(3);
  }
  CHECK(os.str() == "\rx  30% [######..............] 3/10 00:00<00:00\x1b[K\n");
}

TEST_CASE("plain mode prints one line per tenth and the final line, never '\\r'") {
  std::ostringstream os;
  double t = 0;
  ProgressBar bar("fit", 1000, os, false, [&] { return t; });
  for (std::size_t i = 1; i <= 1000; ++i) {
    t = static_cast<double>(i) / 64.0;  // exact in binary, so the times below are exact
    bar.update(i, "loss " + std::to_string(i));
  }
  t = 16.0;
  bar.finish("ok");
  const std::string out = os.str();
  CHECK(count_char(out, '\r') == 0);
  CHECK(count_char(out, '\n') == 10);  // 10%, 20%, ..., 90%, then the final line
  // At 500 of 1000: elapsed 7.8125 s, ETA 7.8125 s.
  CHECK(out.find("fit  50% [##########..........] 500/1,000 00:07<00:07 loss 500\n") !=
        std::string::npos);
  CHECK(out.find("fit  10% [##..................] 100/1,000 00:01<00:14 loss 100\n") == 0);
  const std::string last = "fit 100% [####################] 1,000/1,000 00:16 ok\n";
  CHECK(out.substr(out.size() - last.size()) == last);
}

TEST_CASE("plain mode: a jump across several tenths prints once; early finish shows the truth") {
  std::ostringstream os;
  double t = 0;
  ProgressBar bar("gen", 100, os, false, [&] { return t; });
  t = 1;
  bar.update(55);  // crosses 10% .. 50% at once: one line
  bar.update(57);  // still in the same tenth: nothing
  t = 2;
  bar.finish("stopped early");
  CHECK(os.str() ==
        "gen  55% [###########.........] 55/100 00:01<00:00\n"
        "gen  57% [###########.........] 57/100 00:02 stopped early\n");
}

TEST_CASE("unknown total shows the count and elapsed time only") {
  std::ostringstream os;
  double t = 0;
  ProgressBar bar("read", 0, os, false, [&] { return t; });
  bar.update(12345);
  t = 3;
  bar.finish("lines");
  CHECK(os.str() == "read 12,345 00:03 lines\n");
}

TEST_CASE("a string stream is not a terminal by default") {
  std::ostringstream os;
  ProgressBar bar("io", 10, os);
  bar.update(5);
  bar.finish();
  CHECK(count_char(os.str(), '\r') == 0);
  CHECK(count_char(os.str(), '\n') == 2);
  CHECK(os.str().rfind("io  50% [##########..........] 5/10 ", 0) == 0);
}
