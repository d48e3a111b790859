"""Generator of this project's own tabular benchmark: NB201 networks trained on Fashion-MNIST.

Modules: ``fashion_mnist`` (data, splits, live source), ``recipe`` (training recipes),
``order`` (which architectures, in which order), ``train`` (one training run), ``shards``
(one file per finished training), ``generate`` (parallel, resumable runs), ``pilot`` (recipe
pilots), ``merge`` (shards -> tabular benchmark), ``status`` (progress), ``cli`` (commands).
"""
