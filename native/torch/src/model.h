// xp libtorch engine: a layer graph (built in TypeScript by src/engine/graph.ts) turned into
// libtorch tensors, trained by whole steps in C++ (forward, BCE loss, backward, Adam).
//
// Shapes in the graph are Keras-order and exclude the batch: rank 2 = [time, features],
// rank 3 = [height, width, channels] (NHWC). At run time a rank-3 value is a torch [B,C,H,W]
// tensor, by default with channels_last memory (i.e. NHWC in memory, as Keras).
#pragma once

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cstdint>
#include <string>
#include <vector>

namespace xp {

enum class Op { Input, ExpandChannels, Conv2d, BatchNorm, Relu, MaxPool2d, Flatten, ReshapeTime, Lstm, Concat, Dense, Dropout, MaskedTimeMean };
enum class Act { Linear, Relu, Sigmoid };

struct NodeSpec {
  std::string name;
  Op op = Op::Input;
  std::vector<std::string> inputs;
  std::vector<int64_t> shape;  // declared output shape (optional except for the input node)
  int64_t filters = 0, kernel = 0, pool = 0, units = 0;
  int64_t timeStride = 1;  // masked_time_mean: input frames per time step of its first input
  bool returnSequences = false;
  Act activation = Act::Linear;
  double rate = 0.0;       // dropout
  double epsilon = 1e-3;   // batch norm (Keras default)
  double momentum = 0.99;  // batch norm, Keras convention (moving = m * moving + (1 - m) * batch)
};

struct GraphSpec {
  std::vector<NodeSpec> nodes;
  std::string output;
};

struct AdamConfig {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double weightDecay = 0.0;  // torch.optim.Adam's weight_decay: g += weightDecay * p before the moments
};

struct ModelOptions {
  uint64_t seed = 0;
  AdamConfig adam;
  bool channelsLast = true;
  bool fusedLstm = true;  // false: at::lstm (torch's implementation, for comparison)
  bool hasClassWeights = false;
  double w0 = 1.0, w1 = 1.0;
};

// How a torch-layout tensor maps to the Keras / TF.js layout.
enum class Layout { Plain, ConvKernel /* OIHW <-> HWIO */, Transpose /* [out,in] <-> [in,out] */ };

struct Weight {
  std::string name;  // "<layer>/<kernel|bias|recurrent_kernel|gamma|beta|moving_mean|moving_variance>"
  at::Tensor tensor; // torch layout; a leaf with requires_grad when trainable
  Layout layout = Layout::Plain;
  bool trainable = true;
  std::vector<int64_t> kerasShape;
  at::Tensor m, v;   // Adam slots (trainable weights only), same shape/strides as tensor
};

struct Node {
  NodeSpec spec;
  std::vector<int> in;          // indices of input nodes
  std::vector<int64_t> shape;   // inferred output shape (Keras order, no batch)
  at::Tensor w, b, wh, bhZero;  // conv/dense: w,b; lstm: w (w_ih), wh (w_hh), b (b_ih), bhZero
  at::Tensor gamma, beta, runMean, runVar;  // batch norm
  // relu -> max_pool == max_pool -> relu (both monotonic; the gradients agree too), and the pool
  // makes the relu (and its backward) 4x cheaper: a relu whose only consumer is a max-pool is
  // deferred (passes its input through) and the pool applies it.
  bool deferredRelu = false, reluAfterPool = false;
};

struct KerasTensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> data;
};

struct OptimizerState {
  int64_t step = 0;
  AdamConfig adam;
  std::vector<KerasTensor> m, v;  // per trainable weight, Keras layout, same order as weights
  std::vector<uint8_t> rng;       // dropout generator state
};

class Model {
 public:
  Model(const GraphSpec& graph, const ModelOptions& options);

  // One training step on a batch: x [batch, T, F] row-major, y [batch] in {0,1}. Returns the loss.
  double trainStep(const float* x, const float* y, int64_t batch);
  // Probabilities (sigmoid of the output), eval mode (no dropout, batch-norm running stats).
  std::vector<float> predict(const float* x, int64_t batch);
  // Loss and weight gradients (Keras layout, trainable weights only) without updating anything.
  double gradients(const float* x, const float* y, int64_t batch, bool training, std::vector<KerasTensor>& out);

  std::vector<KerasTensor> getWeights() const;
  void setWeights(const std::vector<KerasTensor>& weights);
  OptimizerState getOptimizerState() const;
  void setOptimizerState(const OptimizerState& state);

  void setLearningRate(double lr) { opts_.adam.lr = lr; }
  double learningRate() const { return opts_.adam.lr; }
  double weightDecay() const { return opts_.adam.weightDecay; }
  void setClassWeights(bool enabled, double w0, double w1);
  int64_t paramCount() const;
  int64_t frames() const { return T_; }
  int64_t features() const { return F_; }
  int64_t step() const { return step_; }

 private:
  at::Tensor forward(const at::Tensor& x, bool training);  // logits [B,1]
  at::Tensor loss(const at::Tensor& logits, const at::Tensor& y);
  at::Tensor inputTensor(const float* x, int64_t batch) const;
  void adamStep();
  void addWeight(const std::string& name, const at::Tensor& t, Layout layout, bool trainable);
  KerasTensor toKeras(const Weight& w, const at::Tensor& t) const;
  void fromKeras(const Weight& w, const KerasTensor& k, at::Tensor& dst) const;

  ModelOptions opts_;
  std::vector<Node> nodes_;
  std::vector<Weight> weights_;
  int outIndex_ = -1;
  int64_t T_ = 0, F_ = 0;
  int64_t step_ = 0;
  at::Generator gen_;
};

}  // namespace xp
