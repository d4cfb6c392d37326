// N-API binding of the xp libtorch engine (see model.h). Everything is synchronous and runs on the
// calling (main) thread. Errors (bad graphs, bad buffers, libtorch errors) become JS exceptions.
#include <napi.h>

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <torch/csrc/api/include/torch/version.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "caching_allocator.h"
#include "model.h"

namespace {

bool g_cachingAllocator = false;

template <typename F>
auto guarded(Napi::Env env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, std::string("libtorch: ") + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

[[noreturn]] void typeError(Napi::Env env, const std::string& msg) { throw Napi::TypeError::New(env, msg); }

std::string where(const std::string& ctx, const char* key) { return ctx.empty() ? std::string(key) : ctx + "." + key; }

double getNumber(Napi::Object o, const char* key, const std::string& ctx, bool required, double dflt = 0) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) {
    if (required) typeError(o.Env(), where(ctx, key) + ": required number is missing");
    return dflt;
  }
  if (!v.IsNumber()) typeError(o.Env(), where(ctx, key) + ": must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) typeError(o.Env(), where(ctx, key) + ": must be finite");
  return d;
}

int64_t getInt(Napi::Object o, const char* key, const std::string& ctx, bool required, int64_t dflt = 0) {
  double d = getNumber(o, key, ctx, required, static_cast<double>(dflt));
  if (d != std::floor(d)) typeError(o.Env(), where(ctx, key) + ": must be an integer");
  return static_cast<int64_t>(d);
}

std::string getString(Napi::Object o, const char* key, const std::string& ctx) {
  Napi::Value v = o.Get(key);
  if (!v.IsString()) typeError(o.Env(), where(ctx, key) + ": required string is missing");
  return v.As<Napi::String>().Utf8Value();
}

std::vector<int64_t> getShape(Napi::Value v, const std::string& ctx) {
  std::vector<int64_t> s;
  if (v.IsUndefined()) return s;
  if (!v.IsArray()) typeError(v.Env(), ctx + ": shape must be an array of integers");
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value e = a.Get(i);
    if (!e.IsNumber()) typeError(v.Env(), ctx + ": shape must be an array of integers");
    double d = e.As<Napi::Number>().DoubleValue();
    if (d != std::floor(d) || d < 0) typeError(v.Env(), ctx + ": shape must be an array of non-negative integers");
    s.push_back(static_cast<int64_t>(d));
  }
  return s;
}

xp::GraphSpec parseGraph(Napi::Env env, Napi::Value value) {
  if (!value.IsObject()) typeError(env, "graph must be an object");
  Napi::Object g = value.As<Napi::Object>();
  std::string format = getString(g, "format", "graph");
  if (format != "xp-graph/1") typeError(env, "graph.format: unsupported '" + format + "' (expected 'xp-graph/1')");
  xp::GraphSpec spec;
  spec.output = getString(g, "output", "graph");
  Napi::Value nodesV = g.Get("nodes");
  if (!nodesV.IsArray()) typeError(env, "graph.nodes must be an array");
  Napi::Array nodes = nodesV.As<Napi::Array>();
  for (uint32_t i = 0; i < nodes.Length(); i++) {
    std::string ctx = "graph.nodes[" + std::to_string(i) + "]";
    Napi::Value nv = nodes.Get(i);
    if (!nv.IsObject()) typeError(env, ctx + " must be an object");
    Napi::Object o = nv.As<Napi::Object>();
    xp::NodeSpec n;
    n.name = getString(o, "name", ctx);
    ctx += " (" + n.name + ")";
    std::string op = getString(o, "op", ctx);
    Napi::Value inputs = o.Get("inputs");
    if (!inputs.IsUndefined()) {
      if (!inputs.IsArray()) typeError(env, ctx + ".inputs must be an array of names");
      Napi::Array a = inputs.As<Napi::Array>();
      for (uint32_t k = 0; k < a.Length(); k++) {
        if (!a.Get(k).IsString()) typeError(env, ctx + ".inputs must be an array of names");
        n.inputs.push_back(a.Get(k).As<Napi::String>().Utf8Value());
      }
    }
    n.shape = getShape(o.Get("shape"), ctx + ".shape");
    if (op == "input") n.op = xp::Op::Input;
    else if (op == "expand_channels") n.op = xp::Op::ExpandChannels;
    else if (op == "conv2d") {
      n.op = xp::Op::Conv2d;
      n.filters = getInt(o, "filters", ctx, true);
      n.kernel = getInt(o, "kernel", ctx, true);
      Napi::Value pad = o.Get("padding");
      if (!pad.IsUndefined() && !(pad.IsString() && pad.As<Napi::String>().Utf8Value() == "same"))
        typeError(env, ctx + ".padding: only 'same' is supported");
    } else if (op == "batch_norm") {
      n.op = xp::Op::BatchNorm;
      n.epsilon = getNumber(o, "epsilon", ctx, false, 1e-3);
      n.momentum = getNumber(o, "momentum", ctx, false, 0.99);
    } else if (op == "relu") n.op = xp::Op::Relu;
    else if (op == "max_pool2d") {
      n.op = xp::Op::MaxPool2d;
      n.pool = getInt(o, "pool", ctx, true);
    } else if (op == "flatten") n.op = xp::Op::Flatten;
    else if (op == "reshape_time") n.op = xp::Op::ReshapeTime;
    else if (op == "lstm") {
      n.op = xp::Op::Lstm;
      n.units = getInt(o, "units", ctx, true);
      Napi::Value rs = o.Get("return_sequences");
      if (!rs.IsBoolean()) typeError(env, ctx + ".return_sequences must be a boolean");
      n.returnSequences = rs.As<Napi::Boolean>().Value();
    } else if (op == "concat") n.op = xp::Op::Concat;
    else if (op == "dense") {
      n.op = xp::Op::Dense;
      n.units = getInt(o, "units", ctx, true);
      std::string act = getString(o, "activation", ctx);
      if (act == "linear") n.activation = xp::Act::Linear;
      else if (act == "relu") n.activation = xp::Act::Relu;
      else if (act == "sigmoid") n.activation = xp::Act::Sigmoid;
      else typeError(env, ctx + ".activation: unknown '" + act + "'");
    } else if (op == "masked_time_mean") {
      n.op = xp::Op::MaskedTimeMean;
      n.timeStride = getInt(o, "time_stride", ctx, true);
    } else if (op == "dropout") {
      n.op = xp::Op::Dropout;
      n.rate = getNumber(o, "rate", ctx, true);
    } else typeError(env, ctx + ".op: unknown op '" + op + "'");
    spec.nodes.push_back(std::move(n));
  }
  return spec;
}

xp::AdamConfig parseAdam(Napi::Object o, xp::AdamConfig a, const std::string& ctx) {
  a.lr = getNumber(o, "lr", ctx, false, a.lr);
  a.beta1 = getNumber(o, "beta1", ctx, false, a.beta1);
  a.beta2 = getNumber(o, "beta2", ctx, false, a.beta2);
  a.eps = getNumber(o, "epsilon", ctx, false, a.eps);
  a.weightDecay = getNumber(o, "weightDecay", ctx, false, a.weightDecay);
  if (!(a.lr >= 0) || !(a.beta1 >= 0 && a.beta1 < 1) || !(a.beta2 >= 0 && a.beta2 < 1) || !(a.eps > 0) || !(a.weightDecay >= 0))
    typeError(o.Env(), ctx + ": Adam needs lr >= 0, 0 <= beta < 1, epsilon > 0, weightDecay >= 0");
  return a;
}

const float* floatData(Napi::Value v, size_t expected, const std::string& what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    typeError(v.Env(), what + " must be a Float32Array");
  Napi::Float32Array a = v.As<Napi::Float32Array>();
  if (a.ElementLength() != expected)
    typeError(v.Env(), what + " has " + std::to_string(a.ElementLength()) + " elements, expected " + std::to_string(expected));
  return a.Data();
}

Napi::Float32Array toFloat32Array(Napi::Env env, const std::vector<float>& d) {
  Napi::Float32Array a = Napi::Float32Array::New(env, d.size());
  if (!d.empty()) std::memcpy(a.Data(), d.data(), d.size() * sizeof(float));
  return a;
}

Napi::Array shapeToJs(Napi::Env env, const std::vector<int64_t>& s) {
  Napi::Array a = Napi::Array::New(env, s.size());
  for (uint32_t i = 0; i < s.size(); i++) a.Set(i, Napi::Number::New(env, static_cast<double>(s[i])));
  return a;
}

Napi::Array tensorsToJs(Napi::Env env, const std::vector<xp::KerasTensor>& ts) {
  Napi::Array a = Napi::Array::New(env, ts.size());
  for (uint32_t i = 0; i < ts.size(); i++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", ts[i].name);
    o.Set("shape", shapeToJs(env, ts[i].shape));
    o.Set("data", toFloat32Array(env, ts[i].data));
    a.Set(i, o);
  }
  return a;
}

xp::KerasTensor tensorFromJs(Napi::Object o, const char* dataKey, const std::string& ctx) {
  xp::KerasTensor k;
  k.name = getString(o, "name", ctx);
  k.shape = getShape(o.Get("shape"), ctx + ".shape");
  Napi::Value d = o.Get(dataKey);
  if (!d.IsTypedArray() || d.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    typeError(o.Env(), ctx + "." + dataKey + " must be a Float32Array");
  Napi::Float32Array a = d.As<Napi::Float32Array>();
  k.data.assign(a.Data(), a.Data() + a.ElementLength());
  return k;
}

int64_t batchArg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsNumber()) typeError(info.Env(), "batch must be a positive integer");
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!(d >= 1) || d != std::floor(d) || d > 1e9) typeError(info.Env(), "batch must be a positive integer");
  return static_cast<int64_t>(d);
}

class TorchModel : public Napi::ObjectWrap<TorchModel> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "TorchModel",
                       {
                           InstanceMethod<&TorchModel::TrainStep>("trainStep"),
                           InstanceMethod<&TorchModel::Predict>("predict"),
                           InstanceMethod<&TorchModel::Gradients>("gradients"),
                           InstanceMethod<&TorchModel::GetWeights>("getWeights"),
                           InstanceMethod<&TorchModel::SetWeights>("setWeights"),
                           InstanceMethod<&TorchModel::GetOptimizerState>("getOptimizerState"),
                           InstanceMethod<&TorchModel::SetOptimizerState>("setOptimizerState"),
                           InstanceMethod<&TorchModel::SetLearningRate>("setLearningRate"),
                           InstanceMethod<&TorchModel::GetLearningRate>("getLearningRate"),
                           InstanceMethod<&TorchModel::SetClassWeights>("setClassWeights"),
                           InstanceMethod<&TorchModel::ParamCount>("paramCount"),
                           InstanceMethod<&TorchModel::Dispose>("dispose"),
                       });
  }

  // new TorchModel(graph, { seed, lr?, beta1?, beta2?, epsilon?, weightDecay?, classWeights?: [w0, w1], channelsLast?, lstmImpl? })
  explicit TorchModel(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TorchModel>(info) {
    Napi::Env env = info.Env();
    guarded(env, [&] {
      xp::GraphSpec graph = parseGraph(env, info[0]);
      if (info.Length() < 2 || !info[1].IsObject()) typeError(env, "options must be an object with a seed");
      Napi::Object o = info[1].As<Napi::Object>();
      xp::ModelOptions opts;
      double seed = getNumber(o, "seed", "options", true);
      if (seed < 0 || seed != std::floor(seed) || seed > 9007199254740991.0)
        typeError(env, "options.seed must be a non-negative safe integer");
      opts.seed = static_cast<uint64_t>(seed);
      opts.adam = parseAdam(o, opts.adam, "options");
      Napi::Value cl = o.Get("channelsLast");
      if (!cl.IsUndefined()) {
        if (!cl.IsBoolean()) typeError(env, "options.channelsLast must be a boolean");
        opts.channelsLast = cl.As<Napi::Boolean>().Value();
      }
      Napi::Value li = o.Get("lstmImpl");
      if (!li.IsUndefined()) {
        std::string impl = li.IsString() ? li.As<Napi::String>().Utf8Value() : "";
        if (impl != "fused" && impl != "aten") typeError(env, "options.lstmImpl must be 'fused' or 'aten'");
        opts.fusedLstm = impl == "fused";
      }
      Napi::Value cw = o.Get("classWeights");
      if (!cw.IsUndefined() && !cw.IsNull()) {
        if (!cw.IsArray() || cw.As<Napi::Array>().Length() != 2 || !cw.As<Napi::Array>().Get(0u).IsNumber() ||
            !cw.As<Napi::Array>().Get(1u).IsNumber())
          typeError(env, "options.classWeights must be [weight0, weight1]");
        opts.hasClassWeights = true;
        opts.w0 = cw.As<Napi::Array>().Get(0u).As<Napi::Number>().DoubleValue();
        opts.w1 = cw.As<Napi::Array>().Get(1u).As<Napi::Number>().DoubleValue();
      }
      model_ = std::make_unique<xp::Model>(graph, opts);
      return 0;
    });
  }

 private:
  xp::Model& model(Napi::Env env) {
    if (!model_) throw Napi::Error::New(env, "model has been disposed");
    return *model_;
  }

  size_t inputLength(Napi::Env env, int64_t batch) {
    return static_cast<size_t>(batch * model(env).frames() * model(env).features());
  }

  Napi::Value TrainStep(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      int64_t batch = batchArg(info, 2);
      const float* x = floatData(info[0], inputLength(env, batch), "x");
      const float* y = floatData(info[1], static_cast<size_t>(batch), "y");
      return Napi::Number::New(env, model(env).trainStep(x, y, batch));
    });
  }

  Napi::Value Predict(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      int64_t batch = batchArg(info, 1);
      const float* x = floatData(info[0], inputLength(env, batch), "x");
      return toFloat32Array(env, model(env).predict(x, batch));
    });
  }

  // gradients(x, y, batch, training) -> { loss, gradients: [{ name, shape, data }] }
  Napi::Value Gradients(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      int64_t batch = batchArg(info, 2);
      const float* x = floatData(info[0], inputLength(env, batch), "x");
      const float* y = floatData(info[1], static_cast<size_t>(batch), "y");
      bool training = info.Length() > 3 && info[3].ToBoolean().Value();
      std::vector<xp::KerasTensor> grads;
      double loss = model(env).gradients(x, y, batch, training, grads);
      Napi::Object o = Napi::Object::New(env);
      o.Set("loss", loss);
      o.Set("gradients", tensorsToJs(env, grads));
      return o;
    });
  }

  Napi::Value GetWeights(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value { return tensorsToJs(env, model(env).getWeights()); });
  }

  Napi::Value SetWeights(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      if (info.Length() < 1 || !info[0].IsArray()) typeError(env, "weights must be an array of { name, shape, data }");
      Napi::Array a = info[0].As<Napi::Array>();
      std::vector<xp::KerasTensor> ws;
      for (uint32_t i = 0; i < a.Length(); i++) {
        std::string ctx = "weights[" + std::to_string(i) + "]";
        if (!a.Get(i).IsObject()) typeError(env, ctx + " must be an object");
        ws.push_back(tensorFromJs(a.Get(i).As<Napi::Object>(), "data", ctx));
      }
      model(env).setWeights(ws);
      return env.Undefined();
    });
  }

  Napi::Value GetOptimizerState(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      xp::OptimizerState s = model(env).getOptimizerState();
      Napi::Object o = Napi::Object::New(env);
      o.Set("step", static_cast<double>(s.step));
      o.Set("lr", s.adam.lr);
      o.Set("beta1", s.adam.beta1);
      o.Set("beta2", s.adam.beta2);
      o.Set("epsilon", s.adam.eps);
      o.Set("weightDecay", s.adam.weightDecay);
      Napi::Array slots = Napi::Array::New(env, s.m.size());
      for (uint32_t i = 0; i < s.m.size(); i++) {
        Napi::Object slot = Napi::Object::New(env);
        slot.Set("name", s.m[i].name);
        slot.Set("shape", shapeToJs(env, s.m[i].shape));
        slot.Set("m", toFloat32Array(env, s.m[i].data));
        slot.Set("v", toFloat32Array(env, s.v[i].data));
        slots.Set(i, slot);
      }
      o.Set("slots", slots);
      Napi::Uint8Array rng = Napi::Uint8Array::New(env, s.rng.size());
      if (!s.rng.empty()) std::memcpy(rng.Data(), s.rng.data(), s.rng.size());
      o.Set("rngState", rng);
      return o;
    });
  }

  Napi::Value SetOptimizerState(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      if (info.Length() < 1 || !info[0].IsObject()) typeError(env, "optimizer state must be an object");
      Napi::Object o = info[0].As<Napi::Object>();
      xp::OptimizerState s;
      s.step = getInt(o, "step", "state", true);
      // weightDecay is optional (states saved before it existed): absent keeps the model's own.
      xp::AdamConfig base;
      base.weightDecay = model(env).weightDecay();
      s.adam = parseAdam(o, base, "state");
      for (const char* k : {"lr", "beta1", "beta2", "epsilon"}) getNumber(o, k, "state", true);
      Napi::Value slotsV = o.Get("slots");
      if (!slotsV.IsArray()) typeError(env, "state.slots must be an array");
      Napi::Array slots = slotsV.As<Napi::Array>();
      for (uint32_t i = 0; i < slots.Length(); i++) {
        std::string ctx = "state.slots[" + std::to_string(i) + "]";
        if (!slots.Get(i).IsObject()) typeError(env, ctx + " must be an object");
        Napi::Object slot = slots.Get(i).As<Napi::Object>();
        s.m.push_back(tensorFromJs(slot, "m", ctx));
        s.v.push_back(tensorFromJs(slot, "v", ctx));
      }
      Napi::Value rng = o.Get("rngState");
      if (!rng.IsUndefined()) {
        if (!rng.IsTypedArray() || rng.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
          typeError(env, "state.rngState must be a Uint8Array");
        Napi::Uint8Array r = rng.As<Napi::Uint8Array>();
        s.rng.assign(r.Data(), r.Data() + r.ElementLength());
      }
      model(env).setOptimizerState(s);
      return env.Undefined();
    });
  }

  Napi::Value SetLearningRate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      if (info.Length() < 1 || !info[0].IsNumber()) typeError(env, "learning rate must be a number");
      double lr = info[0].As<Napi::Number>().DoubleValue();
      if (!(lr >= 0) || !std::isfinite(lr)) typeError(env, "learning rate must be finite and >= 0");
      model(env).setLearningRate(lr);
      return env.Undefined();
    });
  }

  Napi::Value GetLearningRate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value { return Napi::Number::New(env, model(env).learningRate()); });
  }

  // setClassWeights([w0, w1]) or setClassWeights(null)
  Napi::Value SetClassWeights(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      if (info.Length() < 1 || info[0].IsNull() || info[0].IsUndefined()) {
        model(env).setClassWeights(false, 1, 1);
      } else {
        if (!info[0].IsArray() || info[0].As<Napi::Array>().Length() != 2) typeError(env, "class weights must be [w0, w1] or null");
        Napi::Array a = info[0].As<Napi::Array>();
        if (!a.Get(0u).IsNumber() || !a.Get(1u).IsNumber()) typeError(env, "class weights must be [w0, w1] or null");
        model(env).setClassWeights(true, a.Get(0u).As<Napi::Number>().DoubleValue(), a.Get(1u).As<Napi::Number>().DoubleValue());
      }
      return env.Undefined();
    });
  }

  Napi::Value ParamCount(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value { return Napi::Number::New(env, static_cast<double>(model(env).paramCount())); });
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    model_.reset();
    return info.Env().Undefined();
  }

  std::unique_ptr<xp::Model> model_;
};

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsNumber()) typeError(env, "threads must be a positive integer");
    double n = info[0].As<Napi::Number>().DoubleValue();
    if (!(n >= 1) || n != std::floor(n) || n > 1024) typeError(env, "threads must be a positive integer");
    at::set_num_threads(static_cast<int>(n));
    return env.Undefined();
  });
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("torchVersion", std::string(TORCH_VERSION));
  o.Set("parallelInfo", at::get_parallel_info());
  o.Set("threads", at::get_num_threads());
  return o;
}

Napi::Value AllocatorStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  xp::CacheStats st = xp::cachingAllocatorStats();
  Napi::Object o = Napi::Object::New(env);
  o.Set("enabled", g_cachingAllocator);
  o.Set("cachedBytes", static_cast<double>(st.cachedBytes));
  o.Set("liveBytes", static_cast<double>(st.liveBytes));
  o.Set("hits", static_cast<double>(st.hits));
  o.Set("misses", static_cast<double>(st.misses));
  return o;
}

Napi::Value ReleaseCache(const Napi::CallbackInfo& info) {
  xp::releaseCachedBlocks();
  return info.Env().Undefined();
}

// Development aid: profileStart(path) ... profileStop() writes a chrome://tracing JSON of every op.
std::unique_ptr<torch::autograd::profiler::RecordProfile> g_profile;

Napi::Value ProfileStart(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsString()) typeError(env, "profileStart(path)");
    g_profile.reset();
    g_profile = std::make_unique<torch::autograd::profiler::RecordProfile>(info[0].As<Napi::String>().Utf8Value());
    return env.Undefined();
  });
}

Napi::Value ProfileStop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    g_profile.reset();
    return env.Undefined();
  });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // XP_TORCH_CACHING_ALLOCATOR=0 keeps libtorch's default allocator; XP_TORCH_CACHE_MB caps the cache.
  const char* flag = std::getenv("XP_TORCH_CACHING_ALLOCATOR");
  g_cachingAllocator = !(flag && std::string(flag) == "0");
  if (g_cachingAllocator) {
    const char* mb = std::getenv("XP_TORCH_CACHE_MB");
    double limit = mb ? std::atof(mb) : 1024.0;
    if (!(limit >= 0)) limit = 1024.0;
    xp::installCachingAllocator(static_cast<size_t>(limit * 1024.0 * 1024.0));
  }
  exports.Set("TorchModel", TorchModel::Define(env));
  exports.Set("setThreads", Napi::Function::New<SetThreads>(env, "setThreads"));
  exports.Set("getThreads", Napi::Function::New<GetThreads>(env, "getThreads"));
  exports.Set("info", Napi::Function::New<Info>(env, "info"));
  exports.Set("allocatorStats", Napi::Function::New<AllocatorStats>(env, "allocatorStats"));
  exports.Set("profileStart", Napi::Function::New<ProfileStart>(env, "profileStart"));
  exports.Set("profileStop", Napi::Function::New<ProfileStop>(env, "profileStop"));
  exports.Set("releaseCache", Napi::Function::New<ReleaseCache>(env, "releaseCache"));
  return exports;
}

}  // namespace

NODE_API_MODULE(xp_torch, Init)
