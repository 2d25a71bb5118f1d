#include <cstddef>
#include <cuda_runtime.h>

__global__ void sumKernel(std::size_t n, const double* x, double* partial) {
  __shared__ double cache[256];
  std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  cache[threadIdx.x] = i < n ? x[i] : 0.0;
  __syncthreads();
  for (unsigned stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) {
      cache[threadIdx.x] += cache[threadIdx.x + stride];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    partial[blockIdx.x] = cache[0];
  }
}

double sum(std::size_t n, const double* x) {
  if (n == 0) {
    return 0.0;
  }
  unsigned blocks = static_cast<unsigned>((n + 255) / 256);
  double *dx, *dpartial;
  cudaMalloc(&dx, n * sizeof(double));
  cudaMalloc(&dpartial, blocks * sizeof(double));
  cudaMemcpy(dx, x, n * sizeof(double), cudaMemcpyHostToDevice);
  sumKernel<<<blocks, 256>>>(n, dx, dpartial);
  double* partial = new double[blocks];
  cudaMemcpy(partial, dpartial, blocks * sizeof(double), cudaMemcpyDeviceToHost);
  double total = 0.0;
  for (unsigned b = 0; b < blocks; ++b) {
    total += partial[b];
  }
  delete[] partial;
  cudaFree(dx);
  cudaFree(dpartial);
  return total;
}
