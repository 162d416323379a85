"""course_utils: the plumbing of the course "Fine-tuning pretrained models in PyTorch".

Modules (each does one job):
    data          real digit images from installed packages, few-shot splits, loaders
    pretrained    the course's offline pretrained backbones (and ImageNet weights if cached)
    freezing      freeze / unfreeze by module, by name, all but the head, freeze_to(n)
    counting      trainable parameters as tensors and as elements; per-module tables
    heads         find and replace a torchvision model's classification head
    param_groups  optimizer groups that cover every trainable parameter exactly once
    batchnorm     keep BatchNorm statistics fixed while the model is in train() mode
    training      fit (with a progress bar), evaluate, extract_features, device, seeds
    plots         learning curves, comparisons, trainable-parameter charts
    experiments   the strategies end to end, for comparisons and benchmarks
    inspection    which parameters train, which optimizer group holds what
    exercises     checked exercises: check(), hint(), solution(), grade()
    quiz          multiple-choice quizzes and flashcards from quizzes/*.yaml
    grading       nbgrader release / autograde / feedback
"""
__version__ = "0.1.0"
