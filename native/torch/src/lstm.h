// A fused single-layer LSTM (Keras/torch semantics: gates i, f, g(c), o; recurrent activation
// sigmoid; zero initial state; one bias) as a custom autograd function.
//
// Why: at::lstm builds an autograd graph of ~15 small ops per time step and runs ~25 more in the
// backward; at batch 32 that bookkeeping costs more than the arithmetic. Here the input
// projection for all steps is one GEMM, each step is one small GEMM plus a few vectorised ATen
// ops, and the backward is a hand-written loop with one small GEMM per step; the weight
// gradients are one GEMM each over all steps.
#pragma once

#include <ATen/ATen.h>

namespace xp {

// x [B,T,F] (any strides), wih [4u,F], whh [4u,u], b [4u]. Returns [B,T,u] (returnSequences)
// or the last hidden state [B,u]. Differentiable in x, wih, whh and b.
at::Tensor fusedLstm(const at::Tensor& x, const at::Tensor& wih, const at::Tensor& whh, const at::Tensor& b, bool returnSequences);

}  // namespace xp
