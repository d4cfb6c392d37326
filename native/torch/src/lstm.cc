#include "lstm.h"

#include <torch/csrc/autograd/custom_function.h>

namespace xp {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct LstmFunction : public torch::autograd::Function<LstmFunction> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& wih, const at::Tensor& whh,
                               const at::Tensor& b, bool returnSequences) {
    const int64_t B = x.size(0), T = x.size(1), F = x.size(2), u = whh.size(1);
    TORCH_CHECK(wih.size(0) == 4 * u && wih.size(1) == F && whh.size(0) == 4 * u && b.size(0) == 4 * u, "fusedLstm: weight shapes");
    at::Tensor xt = x.transpose(0, 1).contiguous();  // time-major [T,B,F]
    // G: per step the 4 gate pre-activations, then (in place) their activations.
    at::Tensor G = at::addmm(b, xt.view({T * B, F}), wih.t()).view({T, B, 4 * u});
    at::Tensor H = at::empty({T + 1, B, u}, x.options());   // H[0] = 0, H[t+1] = h_t
    at::Tensor C = at::empty({T + 1, B, u}, x.options());   // C[0] = 0, C[t+1] = c_t
    at::Tensor TC = at::empty({T, B, u}, x.options());      // tanh(c_t)
    H[0].zero_();
    C[0].zero_();
    at::Tensor whhT = whh.t();
    for (int64_t t = 0; t < T; t++) {
      at::Tensor g = G[t];
      if (t > 0) g.addmm_(H[t], whhT);
      at::Tensor ifg = g.narrow(1, 0, 2 * u), gg = g.narrow(1, 2 * u, u), og = g.narrow(1, 3 * u, u);
      ifg.sigmoid_();
      gg.tanh_();
      og.sigmoid_();
      at::Tensor c = C[t + 1], tc = TC[t];
      at::mul_out(c, g.narrow(1, u, u), C[t]);   // f * c_{t-1}
      c.addcmul_(g.narrow(1, 0, u), gg);         // + i * g
      at::tanh_out(tc, c);
      at::Tensor h = H[t + 1];
      at::mul_out(h, og, tc);                    // h = o * tanh(c)
    }
    ctx->saved_data["xt"] = xt;
    ctx->saved_data["G"] = G;
    ctx->saved_data["H"] = H;
    ctx->saved_data["C"] = C;
    ctx->saved_data["TC"] = TC;
    ctx->saved_data["returnSequences"] = returnSequences;
    ctx->save_for_backward({wih, whh});
    if (returnSequences) return {H.narrow(0, 1, T).transpose(0, 1)};  // [B,T,u] view
    return {H[T].clone()};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    at::Tensor wih = saved[0], whh = saved[1];
    at::Tensor xt = ctx->saved_data["xt"].toTensor();
    at::Tensor G = ctx->saved_data["G"].toTensor();
    at::Tensor H = ctx->saved_data["H"].toTensor();
    at::Tensor C = ctx->saved_data["C"].toTensor();
    at::Tensor TC = ctx->saved_data["TC"].toTensor();
    const bool returnSequences = ctx->saved_data["returnSequences"].toBool();
    const int64_t T = G.size(0), B = G.size(1), u = whh.size(1), F = xt.size(2);

    at::Tensor gout = grads[0];
    at::Tensor dHseq;  // time-major [T,B,u] gradient arriving at each h_t from outside
    if (!gout.defined()) gout = at::zeros(returnSequences ? std::vector<int64_t>{B, T, u} : std::vector<int64_t>{B, u}, G.options());
    if (returnSequences) dHseq = gout.transpose(0, 1).contiguous();
    else dHseq = gout.contiguous();  // [B,u], only for t = T-1

    at::Tensor dG = at::empty({T, B, 4 * u}, G.options());
    at::Tensor dh = at::zeros({B, u}, G.options());  // gradient from step t+1 through W_hh
    at::Tensor dc = at::zeros({B, u}, G.options());  // gradient from step t+1 through the cell
    float* dhp = dh.data_ptr<float>();
    float* dcp = dc.data_ptr<float>();
    const float* Gp = G.data_ptr<float>();
    const float* Cp = C.data_ptr<float>();
    const float* TCp = TC.data_ptr<float>();
    const float* seqp = dHseq.data_ptr<float>();
    float* dGp = dG.data_ptr<float>();
    const int64_t U4 = 4 * u;
    for (int64_t t = T - 1; t >= 0; t--) {
      const float* g = Gp + t * B * U4;
      const float* cprev = Cp + t * B * u;
      const float* tc = TCp + t * B * u;
      const float* ext = returnSequences ? seqp + t * B * u : (t == T - 1 ? seqp : nullptr);
      float* dg = dGp + t * B * U4;
      for (int64_t bi = 0; bi < B; bi++) {
        const float* gr = g + bi * U4;
        float* dgr = dg + bi * U4;
        const int64_t r = bi * u;
        for (int64_t k = 0; k < u; k++) {
          const float dhk = dhp[r + k] + (ext ? ext[r + k] : 0.0f);
          const float i = gr[k], f = gr[u + k], gg = gr[2 * u + k], o = gr[3 * u + k];
          const float tck = tc[r + k];
          const float dck = dcp[r + k] + dhk * o * (1.0f - tck * tck);
          dgr[k] = dck * gg * i * (1.0f - i);
          dgr[u + k] = dck * cprev[r + k] * f * (1.0f - f);
          dgr[2 * u + k] = dck * i * (1.0f - gg * gg);
          dgr[3 * u + k] = dhk * tck * o * (1.0f - o);
          dcp[r + k] = dck * f;
        }
      }
      if (t > 0) at::mm_out(dh, dG[t], whh);  // [B,4u] x [4u,u]: gradient into h_{t-1}
    }
    at::Tensor dG2 = dG.view({T * B, U4});
    at::Tensor dx, dwih, dwhh, db;
    if (ctx->needs_input_grad(0)) dx = at::mm(dG2, wih).view({T, B, F}).transpose(0, 1);
    if (ctx->needs_input_grad(1)) dwih = at::mm(dG2.t(), xt.view({T * B, F}));
    if (ctx->needs_input_grad(2)) dwhh = at::mm(dG.narrow(0, 1, T - 1).reshape({(T - 1) * B, U4}).t(), H.narrow(0, 1, T - 1).reshape({(T - 1) * B, u}));
    if (ctx->needs_input_grad(3)) db = dG2.sum(0);
    return {dx, dwih, dwhh, db, at::Tensor()};
  }
};

}  // namespace

at::Tensor fusedLstm(const at::Tensor& x, const at::Tensor& wih, const at::Tensor& whh, const at::Tensor& b, bool returnSequences) {
  TORCH_CHECK(x.dim() == 3 && x.scalar_type() == at::kFloat, "fusedLstm: x must be float [B,T,F]");
  return LstmFunction::apply(x, wih, whh, b, returnSequences)[0];
}

}  // namespace xp
