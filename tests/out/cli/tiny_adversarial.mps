* nnmilp 0.1.0 - Fischetti & Jo 0-1 MILP of a ReLU network
* network: tiny_2-3-2.onnx sha256 b6979604a843183b6a8841bd2d54258a6a0d9f0446ef1a57755dd4070c3dec91
* task: adversarial, minimize L1 distance sum p_j + n_j (in_j = img_j + p_j - n_j substituted) to image tiny_point.npy sha256 f7a5a196c9e0e3b530888cae6be81054ec283203914ef98f11f965de6b3cd813
* target class 0 (margin y_0 >= y_j + 0.2 for all j != 0)
* options: box [0, 1] relu bigm bounds region-symbolic max-dist none
* columns: in_j inputs, y_j outputs, p_j / n_j their deviations up / down from the image (split form), d_j / dmax distances, q_ROW slack of a widened row, x/s/z_Lk_j ReLU unit j of nonlinear layer k (z=1: inactive)
* presolve: 4 split columns (0 directions fixed by the box), 0 fixed columns and 0 empty rows removed
* coefficients: 0 entries below 1e-9 (or 1e-12 of their row's largest) dropped, largest 0e0; 0 rows widened by their range (0 slack columns), so the model is a relaxation and every answer is replayed
* region tightening: an example at l1 distance 0.06666666666666693 (first-order search + LP polishing) bounds the optimum, so bounds were tightened inside the ball of radius 0.06666673433333359 around the image and the model has that distance budget;
*   unstable ReLUs 2 -> 0
* model adversarial: 9 columns (0 binary, 0 general integer), 7 rows, 0 indicator constraints
NAME adversarial FREE
ROWS
 N obj
 E relu_L1_0
 E relu_L1_1
 E relu_L1_2
 E out_0
 E out_1
 G margin_1
 L budget
COLUMNS
    p_0 obj 1
    p_0 relu_L1_0 -1
    p_0 relu_L1_1 -1
    p_0 relu_L1_2 -0.5
    p_0 budget 1
    n_0 obj 1
    n_0 relu_L1_0 1
    n_0 relu_L1_1 1
    n_0 relu_L1_2 0.5
    n_0 budget 1
    p_1 obj 1
    p_1 relu_L1_0 -1
    p_1 relu_L1_1 1
    p_1 relu_L1_2 -0.5
    p_1 budget 1
    n_1 obj 1
    n_1 relu_L1_0 1
    n_1 relu_L1_1 -1
    n_1 relu_L1_2 0.5
    n_1 budget 1
    x_L1_0 relu_L1_0 1
    x_L1_0 out_0 -1
    x_L1_0 out_1 1
    x_L1_1 relu_L1_1 1
    x_L1_1 out_0 1
    x_L1_1 out_1 -2
    x_L1_2 relu_L1_2 1
    x_L1_2 out_0 -1
    x_L1_2 out_1 1
    y_0 out_0 1
    y_0 margin_1 1
    y_1 out_1 1
    y_1 margin_1 -1
RHS
    RHS relu_L1_0 0.10000000000000009
    RHS relu_L1_1 0.5
    RHS relu_L1_2 0.8
    RHS out_1 0.5
    RHS margin_1 0.2
    RHS budget 0.06666673433333359
BOUNDS
 UP BND p_0 0.06666673433333359
 UP BND n_0 0.06666673433333359
 UP BND p_1 0.06666673433333359
 UP BND n_1 0.06666673433333359
 LO BND x_L1_0 0.03333326544999983
 UP BND x_L1_0 0.16666673455000036
 LO BND x_L1_1 0.4333332654499997
 UP BND x_L1_1 0.5666667345500003
 LO BND x_L1_2 0.7666666326749999
 UP BND x_L1_2 0.8333333673250002
 LO BND y_0 0.23333316380999924
 UP BND y_0 0.5666668361900005
 LO BND y_1 0.36666642938999905
 UP BND y_1 0.8333335706100009
ENDATA
