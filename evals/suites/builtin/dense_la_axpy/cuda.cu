#include <cstddef>
#include <cuda_runtime.h>

__global__ void axpyKernel(std::size_t n, double alpha, const double* x, const double* y,
                           double* z) {
  std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (i < n) {
    z[i] = alpha * x[i] + y[i];
  }
}

void axpy(std::size_t n, double alpha, const double* x, const double* y, double* z) {
  if (n == 0) {
    return;
  }
  double *dx, *dy, *dz;
  cudaMalloc(&dx, n * sizeof(double));
  cudaMalloc(&dy, n * sizeof(double));
  cudaMalloc(&dz, n * sizeof(double));
  cudaMemcpy(dx, x, n * sizeof(double), cudaMemcpyHostToDevice);
  cudaMemcpy(dy, y, n * sizeof(double), cudaMemcpyHostToDevice);
  unsigned blocks = static_cast<unsigned>((n + 255) / 256);
  axpyKernel<<<blocks, 256>>>(n, alpha, dx, dy, dz);
  cudaMemcpy(z, dz, n * sizeof(double), cudaMemcpyDeviceToHost);
  cudaFree(dx);
  cudaFree(dy);
  cudaFree(dz);
}
