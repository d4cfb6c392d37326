#include "model.h"

#include "lstm.h"

#include <ATen/Parallel.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>

namespace xp {

namespace {

std::string shapeStr(const std::vector<int64_t>& s) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < s.size(); i++) o << (i ? "," : "") << s[i];
  o << "]";
  return o.str();
}

[[noreturn]] void fail(const std::string& node, const std::string& msg) {
  throw std::invalid_argument("graph node '" + node + "': " + msg);
}

// channels_last with real NHWC strides. t.contiguous(ChannelsLast) is a no-op on a C=1 tensor
// (it already counts as channels_last-contiguous), but its NCHW strides make
// suggest_memory_format() say Contiguous, and then oneDNN runs the convolution in NCHW.
at::Tensor channelsLast(const at::Tensor& t) {
  if (t.suggest_memory_format() == at::MemoryFormat::ChannelsLast) return t;
  at::Tensor out = at::empty(t.sizes(), t.options().memory_format(at::MemoryFormat::ChannelsLast));
  out.copy_(t);
  return out;
}

int64_t prod(const std::vector<int64_t>& s) {
  int64_t p = 1;
  for (auto d : s) p *= d;
  return p;
}

// Keras glorot_uniform: U(-l, l), l = sqrt(6 / (fan_in + fan_out)).
void glorotUniform(at::Tensor& t, int64_t fanIn, int64_t fanOut, at::Generator& gen) {
  double limit = std::sqrt(6.0 / static_cast<double>(fanIn + fanOut));
  t.uniform_(-limit, limit, gen);
}

}  // namespace

Model::Model(const GraphSpec& graph, const ModelOptions& options)
    : opts_(options), gen_(at::make_generator<at::CPUGeneratorImpl>(options.seed)) {
  at::NoGradGuard noGrad;
  std::map<std::string, int> index;
  if (graph.nodes.empty()) throw std::invalid_argument("graph has no nodes");

  for (const auto& spec : graph.nodes) {
    Node n;
    n.spec = spec;
    const std::string& name = spec.name;
    if (name.empty()) throw std::invalid_argument("graph node without a name");
    if (index.count(name)) fail(name, "duplicate node name");
    for (const auto& inName : spec.inputs) {
      auto it = index.find(inName);
      if (it == index.end()) fail(name, "input '" + inName + "' is not an earlier node");
      n.in.push_back(it->second);
    }
    auto inShape = [&](size_t i) -> const std::vector<int64_t>& { return nodes_[n.in.at(i)].shape; };
    auto needInputs = [&](size_t k) {
      if (n.in.size() != k) fail(name, "expects " + std::to_string(k) + " input(s), got " + std::to_string(n.in.size()));
    };
    auto needRank = [&](const std::vector<int64_t>& s, size_t r) {
      if (s.size() != r) fail(name, "expects a rank-" + std::to_string(r) + " input, got " + shapeStr(s));
    };

    switch (spec.op) {
      case Op::Input: {
        needInputs(0);
        if (!nodes_.empty()) fail(name, "the input must be the first node");
        if (spec.shape.size() != 2 || spec.shape[0] < 1 || spec.shape[1] < 1) fail(name, "input shape must be [frames, features]");
        n.shape = spec.shape;
        T_ = spec.shape[0];
        F_ = spec.shape[1];
        break;
      }
      case Op::ExpandChannels: {
        needInputs(1);
        needRank(inShape(0), 2);
        n.shape = {inShape(0)[0], inShape(0)[1], 1};
        break;
      }
      case Op::Conv2d: {
        needInputs(1);
        needRank(inShape(0), 3);
        const auto s = inShape(0);
        int64_t k = spec.kernel, c = s[2], f = spec.filters;
        if (k < 1 || f < 1) fail(name, "filters and kernel must be >= 1");
        n.shape = {s[0], s[1], f};
        n.w = at::empty({f, c, k, k}, at::kFloat);
        glorotUniform(n.w, c * k * k, f * k * k, gen_);
        if (opts_.channelsLast) n.w = channelsLast(n.w);
        n.b = at::zeros({f}, at::kFloat);
        addWeight(name + "/kernel", n.w, Layout::ConvKernel, true);
        addWeight(name + "/bias", n.b, Layout::Plain, true);
        break;
      }
      case Op::BatchNorm: {
        needInputs(1);
        needRank(inShape(0), 3);
        int64_t c = inShape(0)[2];
        if (!(spec.epsilon > 0) || !(spec.momentum >= 0 && spec.momentum < 1)) fail(name, "bad epsilon/momentum");
        n.shape = inShape(0);
        n.gamma = at::ones({c}, at::kFloat);
        n.beta = at::zeros({c}, at::kFloat);
        n.runMean = at::zeros({c}, at::kFloat);
        n.runVar = at::ones({c}, at::kFloat);
        addWeight(name + "/gamma", n.gamma, Layout::Plain, true);
        addWeight(name + "/beta", n.beta, Layout::Plain, true);
        addWeight(name + "/moving_mean", n.runMean, Layout::Plain, false);
        addWeight(name + "/moving_variance", n.runVar, Layout::Plain, false);
        break;
      }
      case Op::Relu:
      case Op::Dropout: {
        needInputs(1);
        if (spec.op == Op::Dropout && !(spec.rate >= 0 && spec.rate < 1)) fail(name, "dropout rate must be in [0, 1)");
        n.shape = inShape(0);
        break;
      }
      case Op::MaxPool2d: {
        needInputs(1);
        needRank(inShape(0), 3);
        const auto s = inShape(0);
        int64_t p = spec.pool;
        if (p < 1) fail(name, "pool must be >= 1");
        if (s[0] / p < 1 || s[1] / p < 1) fail(name, "pool " + std::to_string(p) + " is larger than its input " + shapeStr(s));
        n.shape = {s[0] / p, s[1] / p, s[2]};
        break;
      }
      case Op::Flatten: {
        needInputs(1);
        n.shape = {prod(inShape(0))};
        break;
      }
      case Op::ReshapeTime: {
        needInputs(1);
        needRank(inShape(0), 3);
        const auto s = inShape(0);
        n.shape = {s[0], s[1] * s[2]};
        break;
      }
      case Op::Lstm: {
        needInputs(1);
        needRank(inShape(0), 2);
        const auto s = inShape(0);
        int64_t u = spec.units, f = s[1];
        if (u < 1) fail(name, "units must be >= 1");
        n.shape = spec.returnSequences ? std::vector<int64_t>{s[0], u} : std::vector<int64_t>{u};
        // Keras defaults: kernel glorot_uniform ([in, 4u]), recurrent_kernel orthogonal, bias zeros
        // with unit_forget_bias. Gate order i, f, g(c), o is the same in torch and Keras.
        n.w = at::empty({4 * u, f}, at::kFloat);
        glorotUniform(n.w, f, 4 * u, gen_);
        // Orthogonal (Keras): normal [4u, u], reduced QR, q *= sign(diag(r)); Keras then transposes
        // to [u, 4u], which is exactly torch's w_hh [4u, u] untransposed.
        at::Tensor a = at::empty({4 * u, u}, at::kFloat);
        a.normal_(0.0, 1.0, gen_);
        auto qr = at::linalg_qr(a, "reduced");
        at::Tensor q = std::get<0>(qr), r = std::get<1>(qr);
        n.wh = (q * r.diagonal().sign().unsqueeze(0)).contiguous();
        n.b = at::zeros({4 * u}, at::kFloat);
        n.b.narrow(0, u, u).fill_(1.0);
        n.bhZero = at::zeros({4 * u}, at::kFloat);  // Keras has one bias: keep torch's b_hh at 0
        addWeight(name + "/kernel", n.w, Layout::Transpose, true);
        addWeight(name + "/recurrent_kernel", n.wh, Layout::Transpose, true);
        addWeight(name + "/bias", n.b, Layout::Plain, true);
        break;
      }
      case Op::Concat: {
        needInputs(2);
        const auto a = inShape(0), b = inShape(1);
        if (a.size() != b.size() || a.empty()) fail(name, "cannot concatenate " + shapeStr(a) + " and " + shapeStr(b));
        for (size_t i = 0; i + 1 < a.size(); i++)
          if (a[i] != b[i]) fail(name, "cannot concatenate " + shapeStr(a) + " and " + shapeStr(b) + " on the last axis");
        n.shape = a;
        n.shape.back() += b.back();
        break;
      }
      case Op::MaskedTimeMean: {
        // inputs: h (rank 2 [T', U] or rank 3 [T', W, C]) and the graph input [T, F] (the mask source).
        needInputs(2);
        const auto s = inShape(0);
        if (s.size() != 2 && s.size() != 3) fail(name, "expects a rank-2 or rank-3 first input, got " + shapeStr(s));
        if (nodes_[n.in[1]].spec.op != Op::Input) fail(name, "the second input must be the graph input");
        int64_t stride = spec.timeStride;
        if (stride < 1) fail(name, "time_stride must be >= 1");
        if (s[0] * stride > T_)
          fail(name, std::to_string(s[0]) + " time steps of " + std::to_string(stride) + " frames do not fit the " + std::to_string(T_) + " input frames");
        n.shape.assign(s.begin() + 1, s.end());
        break;
      }
      case Op::Dense: {
        needInputs(1);
        needRank(inShape(0), 1);
        int64_t in = inShape(0)[0], u = spec.units;
        if (u < 1) fail(name, "units must be >= 1");
        n.shape = {u};
        n.w = at::empty({u, in}, at::kFloat);
        glorotUniform(n.w, in, u, gen_);
        n.b = at::zeros({u}, at::kFloat);
        addWeight(name + "/kernel", n.w, Layout::Transpose, true);
        addWeight(name + "/bias", n.b, Layout::Plain, true);
        break;
      }
    }
    if (!spec.shape.empty() && spec.shape != n.shape)
      fail(name, "declared shape " + shapeStr(spec.shape) + " but the inputs give " + shapeStr(n.shape));
    index[name] = static_cast<int>(nodes_.size());
    nodes_.push_back(std::move(n));
  }
  if (nodes_[0].spec.op != Op::Input) throw std::invalid_argument("the first graph node must be the input");
  auto it = index.find(graph.output);
  if (it == index.end()) throw std::invalid_argument("graph output '" + graph.output + "' is not a node");
  outIndex_ = it->second;
  const Node& out = nodes_[outIndex_];
  if (out.spec.op != Op::Dense || out.spec.units != 1 || out.spec.activation != Act::Sigmoid)
    throw std::invalid_argument("graph output '" + graph.output + "' must be a dense layer with 1 unit and sigmoid activation");

  std::vector<int> consumers(nodes_.size(), 0);
  for (const auto& n : nodes_)
    for (int k : n.in) consumers[k]++;
  for (size_t i = 0; i < nodes_.size(); i++) {
    Node& n = nodes_[i];
    if (n.spec.op != Op::MaxPool2d) continue;
    int r = n.in[0];
    if (nodes_[r].spec.op == Op::Relu && consumers[r] == 1 && r != outIndex_) {
      nodes_[r].deferredRelu = true;
      n.reluAfterPool = true;
    }
  }

  for (auto& w : weights_) {
    if (w.trainable) {
      w.tensor.set_requires_grad(true);
      w.m = at::zeros_like(w.tensor);
      w.v = at::zeros_like(w.tensor);
    }
  }
  if (options.hasClassWeights) setClassWeights(true, options.w0, options.w1);
}

void Model::addWeight(const std::string& name, const at::Tensor& t, Layout layout, bool trainable) {
  Weight w;
  w.name = name;
  w.tensor = t;
  w.layout = layout;
  w.trainable = trainable;
  auto s = t.sizes().vec();
  switch (layout) {
    case Layout::Plain: w.kerasShape = s; break;
    case Layout::ConvKernel: w.kerasShape = {s[2], s[3], s[1], s[0]}; break;
    case Layout::Transpose: w.kerasShape = {s[1], s[0]}; break;
  }
  weights_.push_back(std::move(w));
}

void Model::setClassWeights(bool enabled, double w0, double w1) {
  if (enabled && !(w0 >= 0 && w1 >= 0 && std::isfinite(w0) && std::isfinite(w1)))
    throw std::invalid_argument("class weights must be finite and >= 0");
  opts_.hasClassWeights = enabled;
  opts_.w0 = enabled ? w0 : 1.0;
  opts_.w1 = enabled ? w1 : 1.0;
}

int64_t Model::paramCount() const {
  int64_t n = 0;
  for (const auto& w : weights_) n += w.tensor.numel();
  return n;
}

at::Tensor Model::inputTensor(const float* x, int64_t batch) const {
  if (batch < 1) throw std::invalid_argument("batch must be >= 1");
  // The caller's buffer outlives the call; the graph (and its saved tensors) is freed before return.
  return at::from_blob(const_cast<float*>(x), {batch, T_, F_}, at::kFloat);
}

at::Tensor Model::forward(const at::Tensor& x, bool training) {
  std::vector<at::Tensor> val(nodes_.size());
  const int64_t B = x.size(0);
  for (size_t i = 0; i < nodes_.size(); i++) {
    Node& n = nodes_[i];
    const at::Tensor& in = n.in.empty() ? x : val[n.in[0]];
    at::Tensor out;
    switch (n.spec.op) {
      case Op::Input: out = x; break;
      case Op::ExpandChannels:  // [B,T,F] -> [B,1,T,F]
        out = opts_.channelsLast ? channelsLast(in.unsqueeze(1)) : in.unsqueeze(1).contiguous();
        break;
      case Op::Conv2d: {
        int64_t k = n.spec.kernel;
        if (k % 2 == 1) {
          out = at::conv2d(in, n.w, n.b, {1, 1}, {k / 2, k / 2});
        } else {  // 'same' with an even kernel: TF pads the extra row/column at the bottom/right
          int64_t lo = (k - 1) / 2, hi = k - 1 - lo;
          out = at::conv2d(at::constant_pad_nd(in, {lo, hi, lo, hi}, 0), n.w, n.b);
        }
        break;
      }
      case Op::BatchNorm:
        out = at::batch_norm(in, n.gamma, n.beta, n.runMean, n.runVar, training, 1.0 - n.spec.momentum, n.spec.epsilon, false);
        break;
      case Op::Relu: out = n.deferredRelu ? in : at::relu(in); break;
      case Op::MaxPool2d:
        out = at::max_pool2d(in, {n.spec.pool, n.spec.pool}, {n.spec.pool, n.spec.pool});
        if (n.reluAfterPool) out = at::relu(out);
        break;
      case Op::Flatten:
        // Keras flattens NHWC: (h, w, c) order, so the next dense kernel is Keras-compatible.
        out = in.dim() == 4 ? in.permute({0, 2, 3, 1}).reshape({B, -1}) : in.reshape({B, -1});
        break;
      case Op::ReshapeTime:  // [B,C,H,W] -> [B,H,W*C] with (w, c) feature order, as Keras Reshape on NHWC
        out = in.permute({0, 2, 3, 1}).reshape({B, in.size(2), in.size(3) * in.size(1)});
        break;
      case Op::Lstm: {
        if (opts_.fusedLstm) {
          out = fusedLstm(in, n.w, n.wh, n.b, n.spec.returnSequences);
          break;
        }
        int64_t u = n.spec.units;
        at::Tensor h0 = at::zeros({1, B, u}, in.options());
        auto r = at::lstm(in, {h0, h0}, {n.w, n.wh, n.b, n.bhZero}, true, 1, 0.0, training, false, true);
        out = n.spec.returnSequences ? std::get<0>(r) : std::get<1>(r).select(0, 0);
        break;
      }
      case Op::Concat: {
        const at::Tensor& b = val[n.in[1]];
        out = at::cat({in, b}, in.dim() == 4 ? 1 : in.dim() - 1);  // Keras last axis (channels for NHWC)
        if (in.dim() == 4 && opts_.channelsLast) out = channelsLast(out);
        break;
      }
      case Op::Dense: {
        out = at::linear(in, n.w, n.b);
        if (static_cast<int>(i) == outIndex_) break;  // logits: sigmoid is fused into the loss / predict
        if (n.spec.activation == Act::Relu) out = at::relu(out);
        else if (n.spec.activation == Act::Sigmoid) out = at::sigmoid(out);
        break;
      }
      case Op::MaskedTimeMean: {
        // Weights per time step: m / max(1, sum m), m[t'] = 1 when any input value of frames
        // [t'*s, t'*s+s) is non-zero (a frame of exact zeros is padding). No gradient through the mask.
        const int64_t Tp = nodes_[n.in[0]].shape[0], s = n.spec.timeStride;
        at::Tensor w;
        {
          at::NoGradGuard noGradMask;
          const at::Tensor& src = val[n.in[1]];  // [B,T,F]
          at::Tensor m = src.narrow(1, 0, Tp * s).reshape({B, Tp, s * F_}).ne(0).any(2).to(at::kFloat);  // [B,T']
          w = m.div(m.sum(1, true).clamp_min(1.0)).unsqueeze(1);  // [B,1,T']
        }
        if (in.dim() == 3) {  // LSTM sequences [B,T',U] -> [B,U]
          out = at::bmm(w, in).squeeze(1);
        } else {  // conv [B,C,T',W] (NCHW logically) -> Keras order [B,W,C], so flatten gives (w, c) order
          const int64_t C = in.size(1), W = in.size(3);
          // [B,T',W,C]: a view of channels_last memory (a copy otherwise)
          out = at::bmm(w, in.permute({0, 2, 3, 1}).reshape({B, Tp, W * C})).view({B, W, C});
        }
        break;
      }
      case Op::Dropout: {
        double rate = n.spec.rate;
        if (!training || rate == 0.0) { out = in; break; }
        double keep = 1.0 - rate;
        at::Tensor mask = at::empty(in.sizes(), in.options());
        mask.bernoulli_(keep, gen_).div_(keep);  // inverted dropout, as Keras and torch
        out = in * mask;
        break;
      }
    }
    val[i] = out;
    if (static_cast<int>(i) == outIndex_) return out;
  }
  return val[outIndex_];
}

at::Tensor Model::loss(const at::Tensor& logits, const at::Tensor& y) {
  // BCE on logits == BCE(sigmoid(logits)) without the saturation at 0/1.
  c10::optional<at::Tensor> weight;
  if (opts_.hasClassWeights) weight = y * (opts_.w1 - opts_.w0) + opts_.w0;
  return at::binary_cross_entropy_with_logits(logits, y, weight, c10::nullopt, at::Reduction::Mean);
}

double Model::trainStep(const float* x, const float* y, int64_t batch) {
  at::Tensor X = inputTensor(x, batch);
  at::Tensor Y = at::from_blob(const_cast<float*>(y), {batch, 1}, at::kFloat);
  double value;
  {
    at::AutoGradMode grad(true);
    at::Tensor l = loss(forward(X, true), Y);
    l.backward();
    value = l.item<double>();
  }
  adamStep();
  return value;
}

std::vector<float> Model::predict(const float* x, int64_t batch) {
  at::NoGradGuard noGrad;
  at::Tensor p = at::sigmoid(forward(inputTensor(x, batch), false)).contiguous();
  std::vector<float> out(static_cast<size_t>(batch));
  std::memcpy(out.data(), p.data_ptr<float>(), sizeof(float) * out.size());
  return out;
}

double Model::gradients(const float* x, const float* y, int64_t batch, bool training, std::vector<KerasTensor>& out) {
  at::Tensor X = inputTensor(x, batch);
  at::Tensor Y = at::from_blob(const_cast<float*>(y), {batch, 1}, at::kFloat);
  std::vector<at::Tensor> params;
  for (auto& w : weights_)
    if (w.trainable) params.push_back(w.tensor);
  double value;
  std::vector<at::Tensor> grads;
  {
    at::AutoGradMode grad(true);
    at::Tensor l = loss(forward(X, training), Y);
    grads = torch::autograd::grad({l}, params, {}, false, false, true);
    value = l.item<double>();
  }
  out.clear();
  size_t j = 0;
  for (auto& w : weights_) {
    if (!w.trainable) continue;
    at::Tensor g = grads[j++];
    if (!g.defined()) g = at::zeros_like(w.tensor);
    out.push_back(toKeras(w, g));
  }
  return value;
}

// Adam as torch.optim.Adam (no amsgrad): g += wd p (weight_decay, L2); m = b1 m + (1-b1) g;
// v = b2 v + (1-b2) g²; p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps). One fused pass per tensor.
void Model::adamStep() {
  at::NoGradGuard noGrad;
  step_++;
  const auto& a = opts_.adam;
  const double bc1 = 1.0 - std::pow(a.beta1, static_cast<double>(step_));
  const double bc2 = 1.0 - std::pow(a.beta2, static_cast<double>(step_));
  const float b1 = static_cast<float>(a.beta1), b2 = static_cast<float>(a.beta2);
  const float omb1 = static_cast<float>(1.0 - a.beta1), omb2 = static_cast<float>(1.0 - a.beta2);
  const float stepSize = static_cast<float>(a.lr / bc1);
  const float bc2Sqrt = static_cast<float>(std::sqrt(bc2));
  const float eps = static_cast<float>(a.eps);
  const float wd = static_cast<float>(a.weightDecay);
  for (auto& w : weights_) {
    if (!w.trainable) continue;
    at::Tensor& p = w.tensor;
    at::Tensor g = p.grad();
    if (!g.defined()) continue;
    bool fused = p.is_non_overlapping_and_dense() && g.strides() == p.strides() && w.m.strides() == p.strides() &&
                 w.v.strides() == p.strides() && g.scalar_type() == at::kFloat;
    if (fused) {
      float* pp = p.data_ptr<float>();
      const float* gp = g.data_ptr<float>();
      float* mp = w.m.data_ptr<float>();
      float* vp = w.v.data_ptr<float>();
      at::parallel_for(0, p.numel(), 32768, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; i++) {
          float gi = gp[i];
          if (wd != 0.0f) gi += wd * pp[i];
          float mi = mp[i] * b1 + gi * omb1;
          float vi = vp[i] * b2 + gi * gi * omb2;
          mp[i] = mi;
          vp[i] = vi;
          pp[i] -= stepSize * (mi / (std::sqrt(vi) / bc2Sqrt + eps));
        }
      });
    } else {
      if (a.weightDecay != 0.0) g = g.add(p.detach(), a.weightDecay);
      w.m.mul_(a.beta1).add_(g, 1.0 - a.beta1);
      w.v.mul_(a.beta2).addcmul_(g, g, 1.0 - a.beta2);
      at::Tensor denom = (w.v.sqrt() / std::sqrt(bc2)).add_(a.eps);
      p.addcdiv_(w.m, denom, -a.lr / bc1);
    }
    p.mutable_grad().reset();  // set_to_none
  }
}

KerasTensor Model::toKeras(const Weight& w, const at::Tensor& t) const {
  at::Tensor k;
  switch (w.layout) {
    case Layout::Plain: k = t; break;
    case Layout::ConvKernel: k = t.permute({2, 3, 1, 0}); break;  // OIHW -> HWIO
    case Layout::Transpose: k = t.t(); break;
  }
  k = k.detach().contiguous();
  KerasTensor out;
  out.name = w.name;
  out.shape = w.kerasShape;
  out.data.resize(static_cast<size_t>(k.numel()));
  std::memcpy(out.data.data(), k.data_ptr<float>(), sizeof(float) * out.data.size());
  return out;
}

void Model::fromKeras(const Weight& w, const KerasTensor& k, at::Tensor& dst) const {
  if (k.shape != w.kerasShape)
    throw std::invalid_argument("weight '" + w.name + "': expected shape " + shapeStr(w.kerasShape) + ", got " + shapeStr(k.shape));
  if (static_cast<int64_t>(k.data.size()) != prod(w.kerasShape))
    throw std::invalid_argument("weight '" + w.name + "': data length does not match shape " + shapeStr(w.kerasShape));
  at::Tensor src = at::from_blob(const_cast<float*>(k.data.data()), w.kerasShape, at::kFloat);
  switch (w.layout) {
    case Layout::Plain: break;
    case Layout::ConvKernel: src = src.permute({3, 2, 0, 1}); break;  // HWIO -> OIHW
    case Layout::Transpose: src = src.t(); break;
  }
  at::NoGradGuard noGrad;
  dst.copy_(src);
}

std::vector<KerasTensor> Model::getWeights() const {
  std::vector<KerasTensor> out;
  for (const auto& w : weights_) out.push_back(toKeras(w, w.tensor));
  return out;
}

void Model::setWeights(const std::vector<KerasTensor>& weights) {
  std::map<std::string, const KerasTensor*> byName;
  for (const auto& k : weights) {
    if (byName.count(k.name)) throw std::invalid_argument("weight '" + k.name + "' given twice");
    byName[k.name] = &k;
  }
  for (const auto& w : weights_)
    if (!byName.count(w.name)) throw std::invalid_argument("weight '" + w.name + "' is missing");
  if (byName.size() != weights_.size()) {
    for (const auto& kv : byName) {
      bool known = false;
      for (const auto& w : weights_) known = known || w.name == kv.first;
      if (!known) throw std::invalid_argument("unknown weight '" + kv.first + "'");
    }
  }
  // Validate everything before writing anything.
  for (const auto& w : weights_) {
    const KerasTensor& k = *byName[w.name];
    if (k.shape != w.kerasShape)
      throw std::invalid_argument("weight '" + w.name + "': expected shape " + shapeStr(w.kerasShape) + ", got " + shapeStr(k.shape));
    if (static_cast<int64_t>(k.data.size()) != prod(w.kerasShape))
      throw std::invalid_argument("weight '" + w.name + "': data length does not match shape " + shapeStr(w.kerasShape));
  }
  for (auto& w : weights_) fromKeras(w, *byName[w.name], w.tensor);
}

OptimizerState Model::getOptimizerState() const {
  OptimizerState s;
  s.step = step_;
  s.adam = opts_.adam;
  for (const auto& w : weights_) {
    if (!w.trainable) continue;
    s.m.push_back(toKeras(w, w.m));
    s.v.push_back(toKeras(w, w.v));
  }
  at::Generator gen = gen_;
  std::lock_guard<std::mutex> lock(gen.mutex());
  at::Tensor st = gen.get_state();
  s.rng.resize(static_cast<size_t>(st.numel()));
  std::memcpy(s.rng.data(), st.data_ptr<uint8_t>(), s.rng.size());
  return s;
}

void Model::setOptimizerState(const OptimizerState& s) {
  if (s.step < 0) throw std::invalid_argument("optimizer step must be >= 0");
  size_t n = 0;
  for (const auto& w : weights_) n += w.trainable ? 1 : 0;
  if (s.m.size() != n || s.v.size() != n)
    throw std::invalid_argument("optimizer state has " + std::to_string(s.m.size()) + " slots, the model has " + std::to_string(n) + " trainable weights");
  size_t j = 0;
  for (const auto& w : weights_) {
    if (!w.trainable) continue;
    if (s.m[j].name != w.name || s.v[j].name != w.name)
      throw std::invalid_argument("optimizer slot " + std::to_string(j) + " is '" + s.m[j].name + "', expected '" + w.name + "'");
    if (s.m[j].shape != w.kerasShape || s.v[j].shape != w.kerasShape ||
        static_cast<int64_t>(s.m[j].data.size()) != prod(w.kerasShape) || static_cast<int64_t>(s.v[j].data.size()) != prod(w.kerasShape))
      throw std::invalid_argument("optimizer slot '" + w.name + "' has the wrong shape");
    j++;
  }
  if (!s.rng.empty()) {
    at::Tensor st = at::empty({static_cast<int64_t>(s.rng.size())}, at::kByte);
    std::memcpy(st.data_ptr<uint8_t>(), s.rng.data(), s.rng.size());
    std::lock_guard<std::mutex> lock(gen_.mutex());
    gen_.set_state(st);  // throws on a malformed state, before anything else is written
  }
  j = 0;
  for (auto& w : weights_) {
    if (!w.trainable) continue;
    fromKeras(w, s.m[j], w.m);
    fromKeras(w, s.v[j], w.v);
    j++;
  }
  step_ = s.step;
  opts_.adam = s.adam;
}

}  // namespace xp
