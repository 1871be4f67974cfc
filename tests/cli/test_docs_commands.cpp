// "Every command that README.md or a tutorial prints is run by a test; a documented command that
// fails is a bug." This file collects the command lines of README.md's and tutorials/*.md's fenced
// code blocks that call the program (build/tinyrec, bash cli/run.sh), the data scripts
// (data/get_*.sh) or a tutorial program (build/tutorial_*), and runs them page by page, in order,
// in a scratch folder per page — shrunk (one epoch, few rows, few steps) so the suite stays fast;
// with TINYREC_DOCS_STEPS_PER_EPOCH=N set, every training run also trains N steps an epoch, and the
// tutorial programs, which must train whole to check their claims, are left to the normal stage.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

enum class Kind { cli, script, tutorial };

struct DocCommand {
  std::string page;  // e.g. "README.md", "tutorials/03_din.md"
  int line = 0;
  std::string text;  // the command as the page prints it (words joined by one space)
  Kind kind = Kind::cli;
  std::string program;            // script: "data/get_income.sh"; tutorial: "tutorial_06_multitask"
  std::vector<std::string> args;  // the words after the program
};

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Shell-like words: blanks separate, '...' and "..." group (the quotes go), a backslash escapes one
// character, and a word starting with '#' starts a comment that ends the line.
std::vector<std::string> split_words(const std::string& line) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote) {
      if (c == quote)
        quote = 0;
      else if (c == '\\' && quote == '"' && i + 1 < line.size())
        cur += line[++i];
      else
        cur += c;
      continue;
    }
    if (c == ' ' || c == '\t') {
      if (in_word) words.push_back(cur), cur.clear(), in_word = false;
      continue;
    }
    if (c == '#' && !in_word) break;
    in_word = true;
    if (c == '\'' || c == '"')
      quote = c;
    else if (c == '\\' && i + 1 < line.size())
      cur += line[++i];
    else
      cur += c;
  }
  if (in_word) words.push_back(cur);
  return words;
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

std::string strip_dot_slash(const std::string& w) {
  return starts_with(w, "./") ? w.substr(2) : w;
}

bool is_data_script(const std::string& w) {
  return starts_with(w, "data/get_") && ends_with(w, ".sh") && w.find('/', 5) == std::string::npos;
}

// One line of a fenced block: its `A && B` parts that call the program, a data script or a
// tutorial.
void collect_line(const std::string& page, int lineno, std::string line,
                  std::vector<DocCommand>& out) {
  if (starts_with(line, "$ ")) line = line.substr(2);
  std::vector<std::vector<std::string>> parts(1);
  for (const auto& w : split_words(line)) {
    if (w == "&&" || w == ";")
      parts.emplace_back();
    else
      parts.back().push_back(w);
  }
  for (const auto& p : parts)  // a cmake line builds; the suite's own build covers it
    if (!p.empty() && (p[0] == "cmake" || ends_with(p[0], "/cmake"))) return;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    DocCommand c;
    c.page = page;
    c.line = lineno;
    c.text = join(p);
    const std::string w0 = strip_dot_slash(p[0]);
    const std::string w1 = p.size() > 1 ? strip_dot_slash(p[1]) : "";
    size_t first_arg = 1;
    if (w0 == "build/tinyrec") {
      c.kind = Kind::cli;
    } else if (w0 == "bash" && w1 == "cli/run.sh") {
      c.kind = Kind::cli;
      first_arg = 2;
    } else if (w0 == "bash" && is_data_script(w1)) {
      c.kind = Kind::script;
      c.program = w1;
      first_arg = 2;
    } else if (is_data_script(w0)) {
      c.kind = Kind::script;
      c.program = w0;
    } else if (starts_with(w0, "build/tutorial_")) {
      c.kind = Kind::tutorial;
      c.program = w0.substr(std::string("build/").size());
    } else {
      continue;  // bash tests/run.sh, cd, ls, ...
    }
    c.args.assign(p.begin() + first_arg, p.end());
    out.push_back(c);
  }
}

// The commands of one page's fenced (```) code blocks, in page order.
std::vector<DocCommand> collect_commands(const std::string& page, const std::string& markdown) {
  std::vector<DocCommand> out;
  std::istringstream in(markdown);
  std::string raw, pending;
  int lineno = 0, pending_line = 0;
  size_t fence = 0;  // backticks of the open fence; 0 outside a block
  while (std::getline(in, raw)) {
    ++lineno;
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    const size_t start = raw.find_first_not_of(" \t");
    const std::string t = start == std::string::npos ? "" : raw.substr(start);
    size_t ticks = 0;
    while (ticks < t.size() && t[ticks] == '`') ++ticks;
    if (fence == 0) {
      if (ticks >= 3) fence = ticks;
      continue;
    }
    if (ticks >= fence && t.find_first_not_of("` \t") == std::string::npos) {
      fence = 0;
      pending.clear();
      continue;
    }
    if (pending.empty()) pending_line = lineno;
    if (!t.empty() && t.back() == '\\') {  // continued on the next line
      pending += t.substr(0, t.size() - 1) + " ";
      continue;
    }
    const std::string line = pending + t;
    pending.clear();
    collect_line(page, pending_line, line, out);
  }
  return out;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// README.md, then tutorials/*.md in name order.
std::vector<std::string> doc_pages() {
  const fs::path root = TINYREC_SOURCE_DIR;
  std::vector<std::string> pages;
  for (const auto& e : fs::directory_iterator(root / "tutorials"))
    if (e.is_regular_file() && e.path().extension() == ".md")
      pages.push_back("tutorials/" + e.path().filename().string());
  std::sort(pages.begin(), pages.end());
  pages.insert(pages.begin(), "README.md");
  return pages;
}

std::vector<DocCommand> page_commands(const std::string& page) {
  const fs::path path = fs::path(TINYREC_SOURCE_DIR) / page;
  REQUIRE_MESSAGE(fs::is_regular_file(path), "cannot read " << path);
  return collect_commands(page, read_text(path));
}

// ---- running --------------------------------------------------------------------------------

// TINYREC_DOCS_STEPS_PER_EPOCH, or null when it is not set: the sanitizer stage (.ci/sanitize.sh)
// runs every documented command on that many steps an epoch, since real data sets cannot be shrunk
// by their flags and under AddressSanitizer a whole MovieLens epoch takes minutes.
const char* steps_per_epoch() {
  const char* steps = std::getenv("TINYREC_DOCS_STEPS_PER_EPOCH");
  return steps && *steps ? steps : nullptr;
}

struct Run {
  int status = -1;
  std::string out, err;
  double seconds = 0;
};

std::string shell_quote(const std::string& w) {
  static const std::set<std::string> operators = {"|", ">", ">>", "<", "2>", "2>&1", "&>"};
  if (operators.count(w)) return w;
  std::string q = "'";
  for (char c : w) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

Run run_shell(const std::string& cmd, const fs::path& err_file) {
  Run r;
  const auto t0 = std::chrono::steady_clock::now();
  FILE* pipe = popen((cmd + " 2>" + shell_quote(err_file.string())).c_str(), "r");
  if (!pipe) {
    r.err = "popen failed";
    return r;
  }
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), pipe)) r.out.append(buf.data(), n);
  const int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.err = read_text(err_file);
  return r;
}

std::string tail(const std::string& s, size_t n = 3000) {
  return s.size() <= n ? s : "[...]" + s.substr(s.size() - n);
}

// Index of `flag` (as "--flag VALUE" or "--flag=VALUE") in args, or -1.
long find_flag(const std::vector<std::string>& args, const std::string& flag) {
  for (size_t i = 0; i < args.size(); ++i)
    if (args[i] == flag || starts_with(args[i], flag + "=")) return long(i);
  return -1;
}

std::string flag_value(const std::vector<std::string>& args, const std::string& flag) {
  const long i = find_flag(args, flag);
  if (i < 0) return "";
  if (args[i] != flag) return args[i].substr(flag.size() + 1);
  return size_t(i) + 1 < args.size() ? args[i + 1] : "";
}

// The help text of a subcommand for a model and data set, to know which flags it takes.
const std::string& help_text(const std::string& sub, const std::string& model,
                             const std::string& dataset) {
  static std::map<std::string, std::string> cache;
  std::string cmd = shell_quote(TINYREC_CLI) + " " + shell_quote(sub);
  if (!model.empty()) cmd += " --model " + shell_quote(model);
  if (!dataset.empty() && sub != "bench") cmd += " --dataset " + shell_quote(dataset);
  cmd += " --help";
  auto it = cache.find(cmd);
  if (it == cache.end()) {
    FILE* pipe = popen((cmd + " 2>&1").c_str(), "r");
    std::string text;
    if (pipe) {
      std::array<char, 4096> buf;
      while (size_t n = fread(buf.data(), 1, buf.size(), pipe)) text.append(buf.data(), n);
      pclose(pipe);
    }
    it = cache.emplace(cmd, text).first;
  }
  return it->second;
}

bool help_lists(const std::string& help, const std::string& flag) {
  for (size_t at = help.find(flag); at != std::string::npos; at = help.find(flag, at + 1)) {
    const size_t end = at + flag.size();
    if (end == help.size() || !(std::isalnum(static_cast<unsigned char>(help[end])) ||
                                help[end] == '-' || help[end] == '_'))
      return true;
  }
  return false;
}

// The task ("click", "multitask", ...) of each model, from `tinyrec models --json`.
std::string task_of(const std::string& model) {
  static std::map<std::string, std::string> tasks;
  if (tasks.empty()) {
    FILE* pipe = popen((shell_quote(TINYREC_CLI) + " models --json 2>/dev/null").c_str(), "r");
    std::string text;
    if (pipe) {
      std::array<char, 4096> buf;
      while (size_t n = fread(buf.data(), 1, buf.size(), pipe)) text.append(buf.data(), n);
      pclose(pipe);
    }
    std::istringstream lines(text);
    for (std::string l; std::getline(lines, l);) {
      const json j = json::parse(l, nullptr, false);
      if (j.is_object() && j.contains("name") && j.contains("task"))
        tasks[j["name"].get<std::string>()] = j["task"].get<std::string>();
    }
    for (const char* m : {"base", "din"}) tasks.emplace(m, "click");
    for (const char* m : {"shared_bottom", "omoe", "mmoe", "ple", "esmm"})
      tasks.emplace(m, "multitask");
  }
  const auto it = tasks.find(model);
  return it == tasks.end() ? "" : it->second;
}

// Placeholder files a page names without creating them, with small valid contents.
std::string fixture_rows_csv() {
  std::ostringstream s;
  s << "age,hours,city,clicked,spend\n";
  const char* cities[] = {"Paris", "Berlin", "Rome", "Oslo"};
  for (int i = 0; i < 200; ++i) {
    const int age = 20 + (i * 7) % 50, hours = (i * 13) % 40;
    const int clicked = (age + hours > 55) != (i % 7 == 0);
    s << age << "," << hours << "," << cities[i % 4] << "," << clicked << ","
      << 0.1 * age + 0.05 * hours + 0.1 * (i % 5) << "\n";
  }
  return s.str();
}

const std::map<std::string, std::string>& placeholder_fixtures() {
  static const std::map<std::string, std::string> fixtures = {
      {"my.schema",
       "# a two-task schema for rows.csv (data/tabular_csv.hpp)\n"
       "name docs_fixture\n"
       "numeric age, hours\n"
       "categorical city\n"
       "label clicked binary\n"
       "label spend regression\n"},
      {"rows.csv", fixture_rows_csv()},
      {"sessions.txt", "1 2 3\n4 5\n"},  // next-item predict: item tokens, one session a line
  };
  return fixtures;
}

struct PageRun {
  std::string page;
  fs::path scratch;  // the working directory of every command of the page

  fs::path resolve(const std::string& p) const {
    const fs::path path(p);
    return path.is_absolute() ? path : scratch / path;
  }

  // /tmp/NAME... -> SCRATCH/tmp/NAME..., also in --flag=/tmp/...
  std::string map_tmp(const std::string& w) const {
    const std::string tmp = (scratch / "tmp").string();
    if (w == "/tmp" || starts_with(w, "/tmp/")) return tmp + w.substr(4);
    const size_t eq = w.find("=/tmp");
    if (starts_with(w, "--") && eq != std::string::npos && (eq + 5 == w.size() || w[eq + 5] == '/'))
      return w.substr(0, eq + 1) + tmp + w.substr(eq + 5);
    return w;
  }

  void create_placeholders(const std::vector<std::string>& args) const {
    for (const auto& a : args) {
      const size_t eq = a.find('=');
      const std::string value =
          starts_with(a, "--") && eq != std::string::npos ? a.substr(eq + 1) : a;
      if (value.empty() || starts_with(value, "-")) continue;
      const auto it = placeholder_fixtures().find(fs::path(value).filename().string());
      if (it == placeholder_fixtures().end()) continue;
      const fs::path p = resolve(value);
      if (fs::exists(p)) continue;  // the page made it
      fs::create_directories(p.parent_path());
      std::ofstream(p, std::ios::binary) << it->second;
    }
  }

  // One epoch, few rows, few steps: see the header comment of this file.
  void shrink(std::vector<std::string>& args) const {
    if (args.empty()) return;
    const std::string sub = args[0];
    if (sub != "train" && sub != "bench" && sub != "experiment") return;
    std::string model = flag_value(args, "--model"), dataset = flag_value(args, "--dataset");
    const std::string config = flag_value(args, "--config");
    if (!config.empty() && fs::is_regular_file(resolve(config))) {
      const json c = json::parse(read_text(resolve(config)), nullptr, false);
      if (model.empty() && c.is_object() && c.value("model", json()).is_string())
        model = c["model"].get<std::string>();
      if (dataset.empty() && c.is_object() && c.value("dataset", json()).is_string())
        dataset = c["dataset"].get<std::string>();
    }
    if (sub != "experiment" && model.empty()) model = "din";
    if (sub != "experiment" && dataset.empty()) dataset = "synthetic";
    const std::string& help =
        help_text(sub, sub == "experiment" ? "" : model, sub == "experiment" ? "" : dataset);
    // Replace the value of a flag the command has; append it only when the subcommand takes it.
    auto set = [&](const std::string& flag, const std::string& value) {
      const long i = find_flag(args, flag);
      if (i >= 0) {
        if (value.empty()) return;
        if (args[i] != flag)
          args[i] = flag + "=" + value;
        else if (size_t(i) + 1 < args.size())
          args[i + 1] = value;
        else
          args.push_back(value);
        return;
      }
      if (!help_lists(help, flag)) return;
      args.push_back(flag);
      if (!value.empty()) args.push_back(value);
    };
    if (sub == "train" && find_flag(args, "--resume") >= 0) {
      // The run it continues was shrunk to one epoch; nothing else may change.
      set("--epochs", "2");
      set("--quiet", "");
      return;
    }
    set("--epochs", "1");
    if (sub == "train") set("--quiet", "");
    if (const char* steps = steps_per_epoch(); steps && sub != "bench")
      set("--steps-per-epoch", steps);
    if (sub == "bench") set("--steps", "3"), set("--warmup", "1");
    if (sub == "experiment") {
      set("--seeds", "1");
      set("--train-rows", "400");
      set("--test-rows", "100");
      set("--correlations", "0.5");
      return;
    }
    if (dataset == "long") set("--users", "40"), set("--hist-len-max", "1500");  // SIM's data
    if (dataset != "synthetic") return;  // real data: kept as the page says
    const std::string task = task_of(model);
    if (task == "click") set("--users", "120");
    if (task == "multitask") set("--train-rows", "400"), set("--test-rows", "100");
    if (task == "next_item") set("--sessions", "400");
    if (task == "meta") set("--users", "300");
  }

  void check_outputs(const DocCommand& c, const std::vector<std::string>& args, const Run& r,
                     const std::string& where) const {
    if (args.empty() || c.kind != Kind::cli) return;
    const std::string sub = args[0];
    if (sub == "train" && find_flag(args, "--out") >= 0) {
      const fs::path out = resolve(flag_value(args, "--out"));
      for (const char* f : {"metrics.json", "curve.csv", "curve.svg", "checkpoint/config.json"})
        CHECK_MESSAGE(fs::is_regular_file(out / f), where << ": no " << (out / f));
      if (fs::is_regular_file(out / "metrics.json")) {
        const json m = json::parse(read_text(out / "metrics.json"), nullptr, false);
        CHECK_MESSAGE((m.is_object() && m.contains("test") && m["test"].is_object()),
                      where << ": " << (out / "metrics.json") << " has no \"test\" object");
      }
    }
    if (sub == "predict") {
      if (find_flag(args, "--output") >= 0) {
        const fs::path f = resolve(flag_value(args, "--output"));
        CHECK_MESSAGE((fs::is_regular_file(f) && fs::file_size(f) > 0),
                      where << ": --output " << f << " is missing or empty");
      } else {
        CHECK_MESSAGE(!r.out.empty(), where << ": printed no scores");
      }
    }
    if (sub == "eval") {
      const json j = json::parse(r.out, nullptr, false);
      CHECK_MESSAGE((j.is_object() && j.contains("test") && j["test"].is_object()),
                    where << ": stdout is not JSON with a \"test\" object:\n"
                          << tail(r.out));
    }
    if (sub == "experiment" && find_flag(args, "--out") >= 0) {
      const fs::path f = resolve(flag_value(args, "--out")) / "table.md";
      CHECK_MESSAGE(fs::is_regular_file(f), where << ": no " << f);
    }
  }

  // Runs one command and checks what it wrote; false when it failed (the page stops there, as its
  // later commands may read what this one should have written). A failure is recorded by CHECK,
  // not REQUIRE: REQUIRE's exception would end the test case and skip the pages after this one.
  bool run(const DocCommand& c) {
    std::vector<std::string> args;
    for (const auto& a : c.args) args.push_back(map_tmp(a));
    std::string program;
    if (c.kind == Kind::cli) {
      shrink(args);
      create_placeholders(args);
      program = "timeout 900 " + shell_quote(TINYREC_CLI);
    } else if (c.kind == Kind::script) {
      program = "bash " + shell_quote((fs::path(TINYREC_SOURCE_DIR) / c.program).string());
    } else {
      if (steps_per_epoch()) {
        // A tutorial program trains its models whole and checks its claims on them: it runs as
        // printed in the normal stage (and as a test of its own), not on a few steps.
        MESSAGE(page << ":" << c.line << ": `" << c.text << "` runs in the normal stage only");
        return true;
      }
      const fs::path bin = fs::path(TINYREC_CLI).parent_path() / c.program;
      if (!fs::exists(bin)) {
        FAIL_CHECK(page << ":" << c.line << ": `" << c.text << "`: " << bin
                        << " is not built (cmake --build BUILD --target " << c.program << ")");
        return false;
      }
      program = "timeout 900 " + shell_quote(bin.string());
    }
    std::string cmd = program;
    for (const auto& a : args) cmd += " " + shell_quote(a);
    const std::string where = page + ":" + std::to_string(c.line) + ": `" + c.text + "`";
    MESSAGE("running " << where << "\n  as: " << cmd);
    const Run r = run_shell("cd " + shell_quote(scratch.string()) + " && " + cmd,
                            scratch.string() + ".stderr");
    std::ostringstream took;
    took << std::fixed << std::setprecision(1) << r.seconds;
    MESSAGE("  exit " << r.status << " after " << took.str() << " s");
    CHECK_MESSAGE(r.status == 0, where << " exited with status " << r.status << "\nran: " << cmd
                                       << "\nstdout:\n"
                                       << tail(r.out) << "\nstderr:\n"
                                       << tail(r.err));
    if (r.status != 0) return false;
    check_outputs(c, args, r, where);
    return true;
  }
};

void run_page(const std::string& page) {
  const fs::path path = fs::path(TINYREC_SOURCE_DIR) / page;
  if (!fs::is_regular_file(path)) {
    FAIL_CHECK("cannot read " << path);
    return;
  }
  const std::vector<DocCommand> commands = collect_commands(page, read_text(path));
  std::string name = page;
  std::replace_if(
      name.begin(), name.end(),
      [](char ch) { return !std::isalnum(static_cast<unsigned char>(ch)); }, '_');
  PageRun pr;
  pr.page = page;
  pr.scratch = fs::temp_directory_path() /
               ("tinyrec_docs_" + name + "_" + std::to_string(static_cast<long>(getpid())));
  fs::remove_all(pr.scratch);
  fs::create_directories(pr.scratch);
  MESSAGE(page << ": " << commands.size() << " command(s), run in " << pr.scratch);
  for (const auto& c : commands)
    if (!pr.run(c)) return;  // a failing page leaves its folder to look at
  fs::remove_all(pr.scratch);
  fs::remove(pr.scratch.string() + ".stderr");
}

}  // namespace

TEST_CASE("docs: the command collector reads fenced blocks only, part by part") {
  const std::string md =
      "Run `build/tinyrec models` (outside a block: ignored).\n"
      "build/tinyrec models\n"
      "```sh\n"
      "build/tinyrec train --model din   --out runs/din   # a comment\n"
      "cmake -S . -B build && ./build/tutorial_01_autodiff\n"
      "bash tests/run.sh\n"
      "data/get_income.sh /tmp/income && build/tutorial_06_multitask /tmp/income/income.csv\n"
      "bash cli/run.sh eval --checkpoint runs/din/checkpoint\n"
      "bash data/get_movielens.sh /tmp/movielens        # 100,004 ratings\n"
      "build/tinyrec train --label \"y binary\" \\\n"
      "  --epochs 3\n"
      "```\n"
      "   ```cpp\n"
      "   // build/tinyrec in a comment is not a command\n"
      "   ```\n"
      "build/tinyrec gradcheck\n";
  const std::vector<DocCommand> c = collect_commands("sample.md", md);
  REQUIRE(c.size() == 6);
  CHECK(c[0].kind == Kind::cli);
  CHECK(c[0].line == 4);
  CHECK(c[0].args == std::vector<std::string>{"train", "--model", "din", "--out", "runs/din"});
  CHECK(c[1].kind == Kind::script);
  CHECK(c[1].program == "data/get_income.sh");
  CHECK(c[1].args == std::vector<std::string>{"/tmp/income"});
  CHECK(c[2].kind == Kind::tutorial);
  CHECK(c[2].program == "tutorial_06_multitask");
  CHECK(c[2].line == 7);
  CHECK(c[3].kind == Kind::cli);
  CHECK(c[3].args == std::vector<std::string>{"eval", "--checkpoint", "runs/din/checkpoint"});
  CHECK(c[4].kind == Kind::script);
  CHECK(c[4].program == "data/get_movielens.sh");
  CHECK(c[4].args == std::vector<std::string>{"/tmp/movielens"});
  CHECK(c[5].args == std::vector<std::string>{"train", "--label", "y binary", "--epochs", "3"});
  CHECK(c[5].line == 10);
}

TEST_CASE("docs: README.md and the tutorials print commands to run") {
  size_t total = 0;
  for (const auto& page : doc_pages()) {
    const std::vector<DocCommand> c = page_commands(page);
    std::ostringstream list;
    for (const auto& cmd : c) list << "\n  " << cmd.line << ": " << cmd.text;
    MESSAGE(page << ": " << c.size() << " command(s)" << list.str());
    if (page == "README.md")
      CHECK_MESSAGE(c.size() >= 5, "README.md has only " << c.size() << " commands");
    total += c.size();
  }
  CHECK(total > 0);
}

TEST_CASE("docs: every command README.md and the tutorials print exits 0") {
  for (const auto& page : doc_pages()) {
    SUBCASE(page.c_str()) {
      try {
        run_page(page);
      } catch (const std::exception& e) {  // caught, so that the next pages still run
        FAIL_CHECK(page << ": " << e.what());
      }
    }
  }
}
