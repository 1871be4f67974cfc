// Indexing by integer ids: index_select (axis 0 and 1, ids of any shape, padding_idx), its adjoint
// index_add, and the embedding lookup; repeated ids must add their gradients.
#include "tests/autograd/helpers.hpp"

using namespace tinyrec;
using tinyrec::test::ids;
using tinyrec::test::In;
using tinyrec::test::make;

namespace {

// [[1,2],[3,4],[5,6]]
Tensor<double> x32(bool requires_grad = false) {
  return make({1, 2, 3, 4, 5, 6}, {3, 2}, requires_grad);
}

}  // namespace

TEST_CASE("index_select picks rows along axis 0 and columns along axis 1") {
  CHECK_TENSOR(index_select(x32(), 0, ids({2, 0, 2}, {3})), {3, 2}, {5, 6, 1, 2, 5, 6});
  const auto x = make({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK_TENSOR(index_select(x, 1, ids({2, 0}, {2})), {2, 2}, {3, 1, 6, 4});
  CHECK_TENSOR(index_select(x, -1, ids({1}, {1})), {2, 1}, {2, 5});
  // Ids of shape [2,2] replace axis 0: out[a][b] = x[ids[a][b]].
  CHECK_TENSOR(index_select(x32(), 0, ids({0, 1, 2, 0}, {2, 2})), {2, 2, 2},
               {1, 2, 3, 4, 5, 6, 1, 2});
  // Ids of shape [2,1] on axis 1: out[i][a][b] = x[i][ids[a][b]].
  CHECK_TENSOR(index_select(x, 1, ids({2, 1}, {2, 1})), {2, 2, 1}, {3, 2, 6, 5});
  // The middle axis of y[i][j][k] = 6i + 2j + k, shape [2,3,2].
  const auto y = make({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {2, 3, 2});
  CHECK_TENSOR(index_select(y, 1, ids({2, 2, 0}, {3})), {2, 3, 2},
               {4, 5, 4, 5, 0, 1, 10, 11, 10, 11, 6, 7});
  // A rank-0 id removes the axis.
  Ids one = Ids::from_shape({});
  one() = 1;
  CHECK_TENSOR(index_select(x32(), 0, one), {2}, {3, 4});
  CHECK_TENSOR(index_select(x, 1, one), {2}, {2, 5});
  // No ids: an empty selection.
  CHECK_TENSOR(index_select(x32(), 0, ids({}, {0})), {0, 2}, {});
}

TEST_CASE("index_select with padding_idx gives zero rows that get no gradient") {
  CHECK_TENSOR(index_select(x32(), 0, ids({1, 0, 2}, {3}), 0), {3, 2}, {3, 4, 0, 0, 5, 6});
  auto v = x32(true);
  backward(sum(index_select(v, 0, ids({2, 0, 2}, {3}))));
  // A repeated id adds its gradients: row 2 is picked twice.
  CHECK_TENSOR(v.grad(), {3, 2}, {1, 1, 0, 0, 2, 2});
  v.zero_grad();
  backward(sum(index_select(v, 0, ids({1, 0, 2, 1}, {4}), 0)));
  CHECK_TENSOR(v.grad(), {3, 2}, {0, 0, 2, 2, 1, 1});
  v.zero_grad();
  backward(
      sum(index_select(v, 1, ids({1, 1, 0}, {3})) * make({1, 2, 3, 4, 5, 6, 7, 8, 9}, {3, 3})));
  // With weights w [3,3]: v[i][1] collects w[i][0] + w[i][1], v[i][0] gets w[i][2].
  CHECK_TENSOR(v.grad(), {3, 2}, {3, 3, 6, 9, 9, 15});
}

TEST_CASE("index_select: gradcheck") {
  std::mt19937_64 rng(501);
  CHECK_GRADCHECK(
      [](const In& in) {
        return index_select(in[0], 0, ids({2, 0, 2, 3}, {4}));
      },
      In{test::uniform(rng, {4, 3}, -2, 2)});
  CHECK_GRADCHECK(
      [](const In& in) {
        return index_select(in[0], 1, ids({1, 1, 0}, {3}));
      },
      In{test::uniform(rng, {2, 3, 2}, -2, 2)});
  CHECK_GRADCHECK(
      [](const In& in) {
        return index_select(in[0], 0, ids({0, 1, 1, 2, 0, 0}, {2, 3}));
      },
      In{test::uniform(rng, {3, 2}, -2, 2)});
  CHECK_GRADCHECK(
      [](const In& in) {
        return index_select(in[0], -1, ids({2, 0, 2, 1}, {2, 2}), 2);
      },
      In{test::uniform(rng, {2, 3}, -2, 2)});
  Ids one = Ids::from_shape({});
  one() = 2;
  CHECK_GRADCHECK([&](const In& in) { return index_select(in[0], 1, one); },
                  In{test::uniform(rng, {2, 3, 2}, -2, 2)});
}

TEST_CASE("index_add scatters and adds, the adjoint of index_select") {
  // x = [[1,2],[3,4],[5,6]] into 4 rows at [2,0,2]: row 0 = [3,4], row 2 = [1,2] + [5,6].
  CHECK_TENSOR(index_add(x32(), 0, ids({2, 0, 2}, {3}), 4), {4, 2}, {3, 4, 0, 0, 6, 8, 0, 0});
  // padding_idx 0: the slice sent to row 0 is dropped.
  CHECK_TENSOR(index_add(x32(), 0, ids({2, 0, 2}, {3}), 4, 0), {4, 2}, {0, 0, 0, 0, 6, 8, 0, 0});
  // Axis 1: [[1,2,3],[4,5,6]] with columns [1,1,0] into 2 columns: [3, 1+2] and [6, 4+5].
  CHECK_TENSOR(index_add(make({1, 2, 3, 4, 5, 6}, {2, 3}), 1, ids({1, 1, 0}, {3}), 2), {2, 2},
               {3, 3, 6, 9});
  // Ids of shape [2,2] take axes 0 and 1 of x [2,2,1]: row 0 = 1, row 1 = 2 + 3 + 4.
  CHECK_TENSOR(index_add(make({1, 2, 3, 4}, {2, 2, 1}), 0, ids({0, 1, 1, 1}, {2, 2}), 2), {2, 1},
               {1, 9});

  auto v = x32(true);
  backward(sum(index_add(v, 0, ids({2, 0, 2}, {3}), 4) * make({1, 2, 3, 4, 5, 6, 7, 8}, {4, 2})));
  // Slice j gets the weight row it was added to: rows 2, 0, 2 of the weights.
  CHECK_TENSOR(v.grad(), {3, 2}, {5, 6, 1, 2, 5, 6});

  std::mt19937_64 rng(503);
  CHECK_GRADCHECK(
      [](const In& in) {
        return index_add(in[0], 0, ids({2, 0, 2}, {3}), 4);
      },
      In{test::uniform(rng, {3, 2}, -2, 2)});
  CHECK_GRADCHECK(
      [](const In& in) {
        return index_add(in[0], 1, ids({1, 1, 0}, {3}), 2, 0);
      },
      In{test::uniform(rng, {2, 3, 2}, -2, 2)});
  CHECK_GRADCHECK(
      [](const In& in) {
        return index_add(in[0], 0, ids({0, 1, 1, 2}, {2, 2}), 3);
      },
      In{test::uniform(rng, {2, 2, 3}, -2, 2)});
}

TEST_CASE("embedding looks rows up for ids of any shape") {
  const auto table = make({0, 1, 2, 3, 4, 5, 6, 7}, {4, 2});
  CHECK_TENSOR(embedding(table, ids({1, 3, 0, 1}, {2, 2})), {2, 2, 2}, {2, 3, 6, 7, 0, 1, 2, 3});
  CHECK_TENSOR(embedding(table, ids({2}, {1})), {1, 2}, {4, 5});
  CHECK_TENSOR(embedding(table, ids({1, 0}, {1, 2}), 0), {1, 2, 2}, {2, 3, 0, 0});

  auto t = make({0, 1, 2, 3, 4, 5, 6, 7}, {4, 2}, true);
  backward(sum(embedding(t, ids({1, 3, 0, 1}, {2, 2}))));
  // Rows used 1, 2, 0, 1 times.
  CHECK_TENSOR(t.grad(), {4, 2}, {1, 1, 2, 2, 0, 0, 1, 1});
  t.zero_grad();
  backward(sum(embedding(t, ids({1, 3, 0, 1}, {2, 2}), 1)));
  CHECK_TENSOR(t.grad(), {4, 2}, {1, 1, 0, 0, 0, 0, 1, 1});

  std::mt19937_64 rng(505);
  CHECK_GRADCHECK(
      [](const In& in) {
        return embedding(in[0], ids({3, 1, 1, 0, 4, 3}, {2, 3}));
      },
      In{test::uniform(rng, {5, 3}, -2, 2)});
  CHECK_GRADCHECK(
      [](const In& in) {
        return embedding(in[0], ids({3, 0, 1, 0}, {4}), 0);
      },
      In{test::uniform(rng, {4, 2}, -2, 2)});
}

TEST_CASE("embedding_concat: the concatenated lookups, with each part's padding") {
  const auto a = make({0, 1, 2, 3, 4, 5, 6, 7}, {4, 2});              // D = 2
  const auto b = make({10, 11, 12, 13, 14, 15, 16, 17, 18}, {3, 3});  // D = 3
  const Ids ia = ids({1, 3, 0, 2}, {2, 2}), ib = ids({2, 0, 1, 0}, {2, 2});
  const auto out = embedding_concat<double>({a, b}, {&ia, &ib}, {-1, 0});
  // Part b pads id 0 with zeros; part a has no padding id, so its id 0 is row 0.
  CHECK_TENSOR(out, {2, 2, 5}, {2, 3, 16, 17, 18, 6, 7, 0, 0, 0, 0, 1, 13, 14, 15, 4, 5, 0, 0, 0});

  // Values and gradients bit for bit those of the composed lookups, in float32 (DIN, DIEN and SIM
  // keep their numbers), with repeated ids and D past a vector (a row of 19 floats).
  std::mt19937_64 rng(506);
  auto to_float = [](const Tensor<double>& x) {
    return Tensor<float>(xt::xarray<float>(xt::cast<float>(x.value())), true);
  };
  const Tensor<double> ta = test::uniform(rng, {6, 19}, -1, 1),
                       tb = test::uniform(rng, {4, 5}, -1, 1);
  const Ids ja = ids({5, 1, 1, 0, 2, 5, 3, 0}, {4, 2}), jb = ids({3, 3, 0, 1, 2, 0, 3, 1}, {4, 2});
  const Tensor<double> w = test::uniform(rng, {4, 2, 24}, -1, 1, false);
  const Tensor<float> fa = to_float(ta), fb = to_float(tb), ga = to_float(ta), gb = to_float(tb);
  const Tensor<float> wf(xt::xarray<float>(xt::cast<float>(w.value())));
  const auto fused = embedding_concat<float>({fa, fb}, {&ja, &jb}, {0, 0});
  const auto composed = concat<float>({embedding(ga, ja, 0), embedding(gb, jb, 0)}, -1);
  REQUIRE(fused.shape() == composed.shape());
  for (size_t i = 0; i < fused.numel(); ++i) CHECK(fused.data()[i] == composed.data()[i]);
  backward(sum(fused * wf));
  backward(sum(composed * wf));
  for (size_t i = 0; i < fa.numel(); ++i) CHECK(fa.grad().data()[i] == ga.grad().data()[i]);
  for (size_t i = 0; i < fb.numel(); ++i) CHECK(fb.grad().data()[i] == gb.grad().data()[i]);
  CHECK(fa.grad().data()[0] == 0.0f);  // row 0 is the padding row: no gradient

  CHECK_GRADCHECK(
      [&](const In& in) {
        return embedding_concat<double>({in[0], in[1]}, {&ja, &jb}, {0, -1});
      },
      In{ta, tb});
  CHECK_GRADGRADCHECK(
      [&](const In& in) {
        return embedding_concat<double>({in[0], in[1]}, {&ja, &jb}, {0, -1});
      },
      In{ta, tb});
}

TEST_CASE("embedding_concat: errors name the op") {
  const auto a = make({0, 1, 2, 3}, {2, 2});
  const Ids two = ids({0, 1}, {2}), three = ids({0, 1, 1}, {3}), bad = ids({0, 2}, {2});
  CHECK_THROWS_WITH_AS(embedding_concat<double>({a, a}, {&two, &three}, {-1, -1}),
                       "embedding_concat: ids [3] of part 1 differ from part 0's [2]",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(embedding_concat<double>({a, make({1, 2}, {2})}, {&two, &two}, {-1, -1}),
                       "embedding_concat: table 1 must be 2-D [N, D], got [2]",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(embedding_concat<double>({a}, {&bad}, {-1}),
                       "embedding_concat: id 2 at position 1 is out of range for an axis of size 2",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(embedding_concat<double>({a}, {&two, &two}, {-1}),
                       "embedding_concat: 1 tables, 2 id sets and 1 padding ids: need one of each "
                       "per part",
                       std::invalid_argument);
}
