#include <cmath>
#include <cstddef>

void dft(std::size_t n, const double* re, const double* im, double* outRe, double* outIm) {
  const double pi = 3.14159265358979323846;
  for (std::size_t j = 0; j < n; ++j) {
    double sumRe = 0.0, sumIm = 0.0;
    for (std::size_t k = 0; k < n; ++k) {
      double angle = -2.0 * pi * static_cast<double>((j * k) % n) / static_cast<double>(n);
      sumRe += re[k] * std::cos(angle) - im[k] * std::sin(angle);
      sumIm += re[k] * std::sin(angle) + im[k] * std::cos(angle);
    }
    outRe[j] = sumRe;
    outIm[j] = sumIm;
  }
}
