"""`keras-albert convert` in every direction."""

import json

import numpy as np

from keras_albert import AlbertBackbone
from keras_albert.cli import main
from keras_albert.presets import loader
from tests import hf_oracle
from tests.presets import sources


def test_convert_hf_to_keras_albert_to_hf_and_google(tmp_path, spm_path,
                                                     capsys):
    hf = hf_oracle.hf_model("AlbertForSequenceClassification", num_labels=3)
    src = sources.save_hf(hf, tmp_path / "hf", spm_path=spm_path)
    ours_dir = str(tmp_path / "ours")
    assert main(["convert", src, ours_dir]) == 0
    assert "AlbertClassifier" in capsys.readouterr().out
    assert loader.resolve(ours_dir)[0] == "keras_albert"
    back = str(tmp_path / "back")
    assert main(["convert", ours_dir, back, "--format", "hf"]) == 0
    import transformers

    again = transformers.AlbertForSequenceClassification.from_pretrained(
        back
    ).eval()
    inputs = hf_oracle.batch_with_padding()
    np.testing.assert_allclose(
        hf_oracle.hf_forward(again, inputs).logits.numpy(),
        hf_oracle.hf_forward(hf, inputs).logits.numpy(), atol=1e-5,
        rtol=1e-5,
    )
    assert (tmp_path / "back" / "spiece.model").read_bytes() == open(
        spm_path, "rb"
    ).read()
    google = str(tmp_path / "google")
    assert main(["convert", back, google, "--format", "google",
                 "--task", "backbone"]) == 0
    config = json.loads((tmp_path / "google" / "albert_config.json")
                        .read_text())
    assert config["hidden_act"] == "gelu"  # Google's name for gelu_new
    ours = AlbertBackbone.from_preset(google)
    want = hf_oracle.hf_forward(hf.albert, inputs).pooler_output.numpy()
    np.testing.assert_allclose(ours.predict(inputs, verbose=0)[
        "pooled_output"], want, atol=1e-5, rtol=1e-5)


def test_convert_reports_errors_without_traceback(tmp_path, capsys):
    assert main(["convert", str(tmp_path / "missing"), str(tmp_path / "o")]
                ) == 1
    assert "Unknown preset" in capsys.readouterr().err
