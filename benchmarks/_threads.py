"""Imported first by the benchmark scripts: wbentropy's thread pool and single-threaded BLAS,
chosen before numpy is imported (:func:`wbentropy.configure_threads`)."""
import wbentropy

wbentropy.configure_threads()
