// Saving and loading a Module as a folder of .npy files.
#include "nn/checkpoint.hpp"

#include <filesystem>
#include <fstream>
#include <new>
#include <set>
#include <stdexcept>
#include <vector>
#include <xtensor/xmath.hpp>

#include "autograd/atomic_file.hpp"
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
  write_file_atomically((dir / "manifest.json").string(), [&module](std::ostream& out) {
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
  });
}

// The array in `path` as T, converting from float32 or float64.
template <class T>
xt::xarray<T> load_as(const std::string& path, const std::string& name) {
  const std::string dtype = npy_dtype(path);
  const std::string kind = dtype.size() > 1 ? dtype.substr(1) : dtype;
  if (kind == "f4") return xt::xarray<T>(xt::cast<T>(load_npy<float>(path)));
  if (kind == "f8") return xt::xarray<T>(xt::cast<T>(load_npy<double>(path)));
  throw std::runtime_error(path + " for tensor '" + name + "' has dtype '" + dtype +
                           "'; expected float32 or float64");
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
    throw WriteError("save_checkpoint: cannot create directory '" + dir + "'" +
                     (ec ? ": " + ec.message() : std::string()));
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
  // Every problem is collected, so one attempt shows all that is wrong with a folder.
  std::vector<std::string> problems;
  for (const auto& stem : npy_names(root))
    if (!names.count(stem))
      problems.push_back((root / (stem + ".npy")).string() +
                         " matches no parameter or buffer of the module");
  std::vector<xt::xarray<T>> values(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, t] = tensors[i];
    const fs::path path = root / (name + ".npy");
    if (!fs::is_regular_file(path)) {
      problems.push_back("'" + dir + "' has no file for tensor '" + name + "' (expected " +
                         path.string() + ")");
      continue;
    }
    try {
      values[i] = load_as<T>(path.string(), name);
    } catch (const std::bad_alloc&) {
      throw std::runtime_error("load_checkpoint: out of memory reading " + path.string());
    } catch (const std::exception& e) {
      problems.push_back(e.what());
      continue;
    }
    if (values[i].shape() != t.shape())
      problems.push_back("tensor '" + name + "' has shape " + shape_str(t.shape()) +
                         " in the module but " + shape_str(values[i].shape()) + " in " +
                         path.string());
  }
  if (!problems.empty()) {
    std::string msg = "load_checkpoint: " + problems.front();
    for (size_t i = 1; i < problems.size(); ++i) msg += "\n  and " + problems[i];
    throw std::runtime_error(msg);
  }
  // In place: optimizers and the model hold these same tensors.
  for (size_t i = 0; i < tensors.size(); ++i) {
    Tensor<T> t = tensors[i].second;
    std::copy(values[i].data(), values[i].data() + values[i].size(), t.data());
  }
}

namespace {

template <class T>
void check_optimizer_params(Optimizer<T>& optimizer, const Named<T>& params, const char* who) {
  if (params.size() != optimizer.params().size())
    throw std::invalid_argument(std::string(who) + ": " + std::to_string(params.size()) +
                                " names for an optimizer of " +
                                std::to_string(optimizer.params().size()) + " parameters");
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i].second.node() != optimizer.params()[i].node())
      throw std::invalid_argument(std::string(who) + ": parameter " + std::to_string(i) + " ('" +
                                  params[i].first + "') is not the optimizer's parameter " +
                                  std::to_string(i));
}

}  // namespace

template <class T>
void save_optimizer_state(Optimizer<T>& optimizer, const Named<T>& params, const std::string& dir) {
  check_optimizer_params(optimizer, params, "save_optimizer_state");
  const fs::path root(dir);
  const auto slots = optimizer.state_slots();
  for (const auto& [slot, arrays] : slots.arrays) {
    std::error_code ec;
    fs::create_directories(root / slot, ec);
    if (ec)
      throw WriteError("save_optimizer_state: cannot create " + (root / slot).string() + ": " +
                       ec.message());
    for (size_t i = 0; i < arrays->size() && i < params.size(); ++i) {
      const std::vector<T>& a = (*arrays)[i];
      if (a.empty()) continue;  // never updated: nothing to keep
      xt::xarray<T> value = xt::xarray<T>::from_shape(params[i].second.shape());
      std::copy(a.begin(), a.end(), value.data());
      save_npy((root / slot / (params[i].first + ".npy")).string(), value);
    }
  }
  for (const auto& [name, counts] : slots.counts) {
    xt::xarray<int64_t> value = xt::xarray<int64_t>::from_shape({counts->size()});
    for (size_t i = 0; i < counts->size(); ++i) value.data()[i] = int64_t((*counts)[i]);
    save_npy((root / (name + ".npy")).string(), value);
  }
}

template <class T>
void load_optimizer_state(Optimizer<T>& optimizer, const Named<T>& params, const std::string& dir) {
  check_optimizer_params(optimizer, params, "load_optimizer_state");
  const fs::path root(dir);
  if (!fs::is_directory(root))
    throw std::runtime_error("load_optimizer_state: '" + dir + "' is not a directory");
  const auto slots = optimizer.state_slots();
  std::vector<std::string> problems;
  std::vector<std::vector<std::vector<T>>> arrays(slots.arrays.size());
  for (size_t s = 0; s < slots.arrays.size(); ++s) {
    const std::string& slot = slots.arrays[s].first;
    arrays[s].resize(params.size());
    std::set<std::string> expected;
    for (size_t i = 0; i < params.size(); ++i) {
      const auto& [name, p] = params[i];
      expected.insert(name);
      const fs::path path = root / slot / (name + ".npy");
      if (!fs::exists(path)) continue;  // the parameter had not been updated
      try {
        const xt::xarray<T> v = load_as<T>(path.string(), name);
        if (v.shape() != p.shape())
          problems.push_back(path.string() + " has shape " + shape_str(v.shape()) +
                             " but the parameter '" + name + "' has shape " + shape_str(p.shape()));
        else
          arrays[s][i].assign(v.data(), v.data() + v.size());
      } catch (const std::exception& e) {
        problems.push_back(e.what());
      }
    }
    if (fs::is_directory(root / slot))
      for (const auto& stem : npy_names(root / slot))
        if (!expected.count(stem))
          problems.push_back((root / slot / (stem + ".npy")).string() +
                             " matches no parameter of the optimizer");
  }
  std::vector<std::vector<uint64_t>> counts(slots.counts.size());
  for (size_t c = 0; c < slots.counts.size(); ++c) {
    const fs::path path = root / (slots.counts[c].first + ".npy");
    try {
      if (!fs::is_regular_file(path)) throw std::runtime_error("missing " + path.string());
      const xt::xarray<int64_t> v = load_npy<int64_t>(path.string());
      if (v.dimension() != 1 || v.size() != params.size())
        throw std::runtime_error(path.string() + " has shape " +
                                 shape_str(Shape(v.shape().begin(), v.shape().end())) +
                                 "; expected [" + std::to_string(params.size()) + "]");
      for (size_t i = 0; i < v.size(); ++i) {
        if (v.data()[i] < 0) throw std::runtime_error(path.string() + " holds a negative count");
        counts[c].push_back(uint64_t(v.data()[i]));
      }
    } catch (const std::exception& e) {
      problems.push_back(e.what());
    }
  }
  if (!problems.empty()) {
    std::string msg = "load_optimizer_state: " + problems.front();
    for (size_t i = 1; i < problems.size(); ++i) msg += "\n  and " + problems[i];
    throw std::runtime_error(msg);
  }
  for (size_t s = 0; s < slots.arrays.size(); ++s) *slots.arrays[s].second = std::move(arrays[s]);
  for (size_t c = 0; c < slots.counts.size(); ++c) *slots.counts[c].second = std::move(counts[c]);
}

template void save_checkpoint(const Module<float>&, const std::string&);
template void save_checkpoint(const Module<double>&, const std::string&);
template void load_checkpoint(Module<float>&, const std::string&);
template void load_checkpoint(Module<double>&, const std::string&);
template void save_optimizer_state(Optimizer<float>&, const Named<float>&, const std::string&);
template void save_optimizer_state(Optimizer<double>&, const Named<double>&, const std::string&);
template void load_optimizer_state(Optimizer<float>&, const Named<float>&, const std::string&);
template void load_optimizer_state(Optimizer<double>&, const Named<double>&, const std::string&);

}  // namespace tinyrec::nn
