// Saving and loading a Module as a folder of .npy files.
#include "nn/checkpoint.hpp"

#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>
#include <vector>
#include <xtensor/xmath.hpp>

#include "nn/npy.hpp"

namespace tinyrec::nn {

namespace fs = std::filesystem;

namespace {

template <class T>
std::vector<std::pair<std::string, Tensor<T>>> all_tensors(const Module<T>& module,
                                                           std::set<std::string>& names,
                                                           const char* who) {
  auto tensors = module.named_parameters();
  for (auto& b : module.named_buffers()) tensors.push_back(b);
  for (const auto& [name, t] : tensors) {
    // Names become file names and JSON strings: keep them to a safe alphabet.
    const bool safe = !name.empty() && name.find_first_not_of(
                                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789_.-") == std::string::npos;
    if (!safe)
      throw std::runtime_error(std::string(who) + ": tensor name '" + name +
                               "' may only use letters, digits, '_', '.' and '-'");
    if (!names.insert(name).second)
      throw std::runtime_error(std::string(who) + ": two tensors are both named '" + name + "'");
  }
  return tensors;
}

// The .npy files in dir, by tensor name (the file name without ".npy").
std::vector<std::string> npy_names(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".npy")
      out.push_back(e.path().stem().string());
  return out;
}

std::string shape_json(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

template <class T>
void write_manifest(const fs::path& dir, const Module<T>& module) {
  const fs::path path = dir / "manifest.json";
  std::ofstream out(path);
  if (!out) throw std::runtime_error("save_checkpoint: cannot write " + path.string());
  auto section = [&out](const char* key, const auto& named, bool last) {
    out << "  \"" << key << "\": {";
    for (size_t i = 0; i < named.size(); ++i)
      out << (i ? "," : "") << "\n    \"" << named[i].first
          << "\": " << shape_json(named[i].second.shape());
    out << (named.empty() ? "" : "\n  ") << "}" << (last ? "\n" : ",\n");
  };
  out << "{\n  \"format\": \"tinyrec-checkpoint\",\n  \"version\": 1,\n  \"dtype\": \""
      << (sizeof(T) == 4 ? "float32" : "float64") << "\",\n";
  section("parameters", module.named_parameters(), false);
  section("buffers", module.named_buffers(), true);
  out << "}\n";
  if (!out) throw std::runtime_error("save_checkpoint: failed writing " + path.string());
}

// The array in `path` as T, converting from float32 or float64.
template <class T>
xt::xarray<T> load_as(const std::string& path, const std::string& name) {
  const std::string dtype = npy_dtype(path);
  const std::string kind = dtype.size() > 1 ? dtype.substr(1) : dtype;
  if (kind == "f4") return xt::xarray<T>(xt::cast<T>(load_npy<float>(path)));
  if (kind == "f8") return xt::xarray<T>(xt::cast<T>(load_npy<double>(path)));
  throw std::runtime_error("load_checkpoint: " + path + " for tensor '" + name + "' has dtype '" +
                           dtype + "'; expected float32 or float64");
}

}  // namespace

template <class T>
void save_checkpoint(const Module<T>& module, const std::string& dir) {
  std::set<std::string> names;
  const auto tensors = all_tensors(module, names, "save_checkpoint");
  const fs::path root(dir);
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec || !fs::is_directory(root))
    throw std::runtime_error("save_checkpoint: cannot create directory '" + dir + "'");
  for (const auto& stem : npy_names(root))
    if (!names.count(stem))
      throw std::runtime_error("save_checkpoint: '" + dir + "' already holds " + stem +
                               ".npy, which is not a tensor of this module; save into an empty "
                               "or dedicated folder");
  for (const auto& [name, t] : tensors) save_npy((root / (name + ".npy")).string(), t.value());
  write_manifest(root, module);
}

template <class T>
void load_checkpoint(Module<T>& module, const std::string& dir) {
  std::set<std::string> names;
  auto tensors = all_tensors(module, names, "load_checkpoint");
  const fs::path root(dir);
  if (!fs::is_directory(root))
    throw std::runtime_error("load_checkpoint: '" + dir + "' is not a directory");
  for (const auto& stem : npy_names(root))
    if (!names.count(stem))
      throw std::runtime_error("load_checkpoint: " + (root / (stem + ".npy")).string() +
                               " matches no parameter or buffer of the module");
  std::vector<xt::xarray<T>> values;
  for (const auto& [name, t] : tensors) {
    const fs::path path = root / (name + ".npy");
    if (!fs::is_regular_file(path))
      throw std::runtime_error("load_checkpoint: '" + dir + "' has no file for tensor '" + name +
                               "' (expected " + path.string() + ")");
    values.push_back(load_as<T>(path.string(), name));
    if (values.back().shape() != t.shape())
      throw std::runtime_error("load_checkpoint: tensor '" + name + "' has shape " +
                               shape_str(t.shape()) + " in the module but " +
                               shape_str(values.back().shape()) + " in " + path.string());
  }
  // In place: optimizers and the model hold these same tensors.
  for (size_t i = 0; i < tensors.size(); ++i) {
    Tensor<T> t = tensors[i].second;
    std::copy(values[i].data(), values[i].data() + values[i].size(), t.data());
  }
}

template void save_checkpoint(const Module<float>&, const std::string&);
template void save_checkpoint(const Module<double>&, const std::string&);
template void load_checkpoint(Module<float>&, const std::string&);
template void load_checkpoint(Module<double>&, const std::string&);

}  // namespace tinyrec::nn
